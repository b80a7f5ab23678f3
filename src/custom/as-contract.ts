// The contract of a custom AssemblyScript kernel, from the op registry (an
// op's `wasm.params`, the parameters of the built-in function its plan
// record calls), and the check of a compiled kernel module against it
// before the wasm backend links it: imports, the export's name, arity and
// wasm types, and where its static data lies. Browser-safe.

import { isOpKind, opDef, replaceableOps } from '../ops/index.js';
import type { WasmSpec } from '../ops/types.js';
import { customDataRegion, type CustomWasmKernel } from '../runtime/wasm/module.js';
import { KernelRejectedError } from './errors.js';

export type AsParamType = WasmSpec<never>['params'][number][1];

export interface AsContract {
  /** Parameters of the exported function, as the built-in kernel declares them. */
  params: readonly (readonly [string, AsParamType])[];
  /** The AssemblyScript declaration, for messages and docs. */
  signature: string;
  computes: string;
}

/** Whether a user's AssemblyScript may replace `op`: every registered op with a contract (the wasm module imports env.custom_<op> for each). */
export function isCustomAsOp(op: string): boolean {
  return isOpKind(op) && opDef(op).custom !== null;
}

/** The AssemblyScript declaration of `op`'s replacement: the built-in function's parameters under the op's name. */
export function asSignature(op: string, params: AsContract['params']): string {
  return `export function ${op}(${params.map(([n, t]) => `${n}: ${t}`).join(', ')}): void`;
}

/** The contract of `op`'s replacement kernel; a KernelRejectedError naming the replaceable ops otherwise. */
export function asContract(op: string, file = op): AsContract {
  if (!isCustomAsOp(op)) {
    throw new KernelRejectedError(op, `${file}: custom AssemblyScript kernels can replace ${replaceableOps().map((d) => d.kind).join(', ')}; '${op}' is not one of them`);
  }
  const def = opDef(op);
  return { params: def.wasm.params, signature: asSignature(op, def.wasm.params), computes: def.summary };
}

export interface AsKernel {
  readonly language: 'assemblyscript';
  op: string;
  /** The file as the user named it (for messages). */
  file: string;
  source: string;
  /** The compiled module (imports env.memory, maybe env.abort; exports `op`). */
  module: WebAssembly.Module;
  bytes: Uint8Array;
  /** The module's static data, [start, end) in linear memory. */
  data: [number, number];
}

export function isAsKernel(k: unknown): k is AsKernel {
  return typeof k === 'object' && k !== null && (k as AsKernel).language === 'assemblyscript';
}

/** The kernel as the wasm backend takes it (WasmBackendOptions.customKernels). */
export function toCustomWasmKernel(k: AsKernel): CustomWasmKernel {
  return { label: k.file, module: k.module, exportName: k.op };
}

/** [start, end) of the active data segments of a wasm binary (i32.const offsets), or null when it has none. */
export function dataSegmentsExtent(bytes: Uint8Array): [number, number] | null {
  let pos = 8;
  const u32 = () => { let r = 0, shift = 0, b; do { b = bytes[pos++]!; r |= (b & 0x7f) << shift; shift += 7; } while (b & 0x80); return r >>> 0; };
  const s32 = () => { let r = 0, shift = 0, b; do { b = bytes[pos++]!; r |= (b & 0x7f) << shift; shift += 7; } while (b & 0x80); if (shift < 32 && (b & 0x40)) r |= -1 << shift; return r; };
  let lo = Infinity, hi = -Infinity;
  while (pos < bytes.length) {
    const id = bytes[pos++]!;
    const size = u32();
    const end = pos + size;
    if (id === 11) {
      const n = u32();
      for (let i = 0; i < n; i++) {
        const flags = u32();
        let offset = -1;
        if (flags === 0 || flags === 2) {
          if (flags === 2) u32();
          if (bytes[pos++] !== 0x41) return [0, Infinity]; // not i32.const: unknown placement
          offset = s32();
          pos++; // end
        }
        const len = u32();
        if (offset >= 0) { lo = Math.min(lo, offset); hi = Math.max(hi, offset + len); }
        pos += len;
      }
    }
    pos = end;
  }
  return lo === Infinity ? null : [lo, hi];
}

/** wasm value types of AssemblyScript parameter types (wasm32: usize is i32). */
const WASM_TYPE: Record<AsParamType, number> = { usize: 0x7f, i32: 0x7f, u32: 0x7f, f32: 0x7d, f64: 0x7c };

/** A tiny module importing m.f of type (params) → (): linking a function to it checks the function's type. */
function signatureProbe(params: AsContract['params']): WebAssembly.Module {
  const n = params.length;
  if (n > 127) throw new Error('signature probe: too many parameters'); // one-byte LEB128 counts below
  const type = [0x60, n, ...params.map(([, t]) => WASM_TYPE[t]), 0x00];
  const typeSec = [0x01, type.length + 1, 0x01, ...type];
  const imp = [0x01, 0x01, 0x6d, 0x01, 0x66, 0x00, 0x00]; // 1 import: "m" "f" func type 0
  const impSec = [0x02, imp.length, ...imp];
  return new WebAssembly.Module(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...typeSec, ...impSec]));
}

/** Check a compiled kernel module (from asc, or a precompiled .wasm) against the contract of `op`. */
export async function checkAsModule(op: string, file: string, source: string, bytes: Uint8Array): Promise<AsKernel> {
  const contract = asContract(op, file);
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes as BufferSource);
  } catch (e) {
    throw new KernelRejectedError(op, `${file}: the compiled kernel is not a valid WebAssembly module for this engine: ${(e as Error).message}`);
  }
  const imports = WebAssembly.Module.imports(module);
  const foreign = imports.filter((i) => !(i.module === 'env' && ((i.name === 'memory' && i.kind === 'memory') || (i.name === 'abort' && i.kind === 'function'))));
  if (foreign.length) {
    throw new KernelRejectedError(op, `${file}: the kernel imports ${foreign.map((i) => `${i.module}.${i.name}`).join(', ')}; a custom kernel runs inside the wasm backend and may import only env.memory and env.abort (no console, Math.random, Date or trace)`);
  }
  if (!imports.some((i) => i.kind === 'memory')) {
    throw new KernelRejectedError(op, `${file}: the kernel does not import its memory; compile it with --importMemory so that it shares the wasm backend's memory`);
  }
  const exported = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
  if (!exported.includes(op)) {
    throw new KernelRejectedError(op, `${file} exports no function '${op}'${exported.length ? ` (it exports ${exported.map((e) => `'${e}'`).join(', ')})` : ''}; the ${op} contract: ${contract.signature}`);
  }
  const [start, end] = customDataRegion(op);
  const data = dataSegmentsExtent(bytes) ?? [start, start];
  if (data[0] < start || data[1] > end) {
    throw new KernelRejectedError(op, `${file}: the kernel's static data occupies bytes ${data[0]}–${data[1]} of memory; a custom ${op} kernel has ${start}–${end} (${(end - start) / 1024} KiB: compile with --memoryBase ${start}, and keep memory.data buffers small)`);
  }
  // Instantiate on a scratch memory to read the export's arity and link-check its types.
  const memory = new WebAssembly.Memory({ initial: Math.ceil(end / 65536) + 1 });
  let fn: unknown;
  try {
    const inst = await WebAssembly.instantiate(module, { env: { memory, abort: () => { throw new Error('abort'); } } });
    fn = inst.exports[op];
  } catch (e) {
    throw new KernelRejectedError(op, `${file}: the kernel module could not be instantiated: ${(e as Error).message}`);
  }
  const n = (fn as (...a: number[]) => void).length;
  if (n !== contract.params.length) {
    throw new KernelRejectedError(op, `${file}: ${op} takes ${n} parameter${n === 1 ? '' : 's'}, the contract has ${contract.params.length}: ${contract.signature}`);
  }
  try {
    await WebAssembly.instantiate(signatureProbe(contract.params), { m: { f: fn as WebAssembly.ImportValue } });
  } catch {
    throw new KernelRejectedError(op, `${file}: ${op}'s parameter or result types do not match the contract: ${contract.signature} (usize, i32 and u32 are wasm i32, f32 and f64 are wasm f32 and f64, and it returns nothing)`);
  }
  return { language: 'assemblyscript', op, file, source, module, bytes, data };
}
