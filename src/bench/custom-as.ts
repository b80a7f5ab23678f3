// Custom AssemblyScript kernels for the wasm backend: compiling a user's
// .ts file with the `assemblyscript` compiler (loaded on first use), mapping
// its diagnostics to lines and columns of the user's file, and checking the
// compiled module against the op's contract (docs/kernels.md) before the
// wasm backend links it.
//
// A custom kernel is its own wasm module that imports the wasm backend's
// memory (`env.memory`, shared: every pointer is a byte offset into it) and
// exports one function named after the op, with exactly the built-in
// kernel's signature (AS_CONTRACTS). It is compiled with
//   --runtime stub --enable simd -O3 --importMemory --memoryBase <region>
// where <region> is the op's 64 KiB static-data region below the built-in
// module's data (customDataRegion in src/runtime/wasm/module.ts), so the
// kernel's constants and `memory.data` scratch never overlap the backend's
// heap. Kernels must not allocate managed objects (no `new`, arrays or
// string concatenation at run time): the stub runtime would allocate from
// the end of the static data, which is the backend's memory.
//
// Browser-safe apart from the compiler import (reading files is the caller's job).

import {
  customDataRegion, CUSTOM_WASM_OPS, type CustomWasmKernel, type CustomWasmOp,
} from '../runtime/wasm/module.js';
import { KernelRejectedError } from './runner.js';

export interface AsContract {
  /** Parameter names of the exported function (all wasm i32: usize pointers or i32 sizes and flags). */
  params: readonly string[];
  /** The AssemblyScript declaration, for messages and docs. */
  signature: string;
  computes: string;
}

/** The ops a custom AssemblyScript kernel may replace: the built-in kernels' signatures (KernelExports). */
export const AS_CONTRACTS: Record<CustomWasmOp, AsContract> = {
  dense_forward: {
    params: ['x', 'w', 'b', 'y', 'M', 'K', 'N', 'relu', 'sparse'],
    signature: 'export function dense_forward(x: usize, w: usize, b: usize, y: usize, M: i32, K: i32, N: i32, relu: i32, sparse: i32): void',
    computes: 'Y[M×N] = X[M×K]·W[K×N] + b (b = 0: no bias), then ReLU when relu != 0; sparse != 0 only hints that X has many zeros',
  },
  dense_backward_weights: {
    params: ['x', 'dy', 'dw', 'db', 'M', 'K', 'N', 'sparse'],
    signature: 'export function dense_backward_weights(x: usize, dy: usize, dw: usize, db: usize, M: i32, K: i32, N: i32, sparse: i32): void',
    computes: 'dW[K×N] = X[M×K]ᵀ·dY[M×N]; db[N] = column sums of dY (db = 0: none); sparse as for dense_forward',
  },
  dense_backward_input: {
    params: ['dy', 'wt', 'dx', 'reluOut', 'M', 'K', 'N'],
    signature: 'export function dense_backward_input(dy: usize, wt: usize, dx: usize, reluOut: usize, M: i32, K: i32, N: i32): void',
    computes: 'dX[M×K] = dY[M×N]·Wᵀ, reading wt = Wᵀ [N×K]; reluOut != 0: dX = 0 where reluOut[M×K] <= 0',
  },
};

export function isCustomAsOp(op: string): op is CustomWasmOp {
  return (CUSTOM_WASM_OPS as readonly string[]).includes(op);
}

export interface AsKernel {
  readonly language: 'assemblyscript';
  op: CustomWasmOp;
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

/** The asc arguments for a kernel of `op` (entry file name relative to the base directory). */
export function ascArgs(op: CustomWasmOp, entry: string): string[] {
  return [
    entry, '--outFile', 'kernel.wasm',
    '--runtime', 'stub', '--enable', 'simd', '-O3',
    '--importMemory', '--memoryBase', String(customDataRegion(op)[0]),
    '--noColors',
  ];
}

/** A diagnostic as asc reports it (the fields Tessera reads). */
export interface AscDiagnostic { message: string; code: number; category: number; range: { start: number; end: number; source: { normalizedPath: string } } | null }

/** What a compiler run returns: the binary, the diagnostics, and the sources read (by the names asc used). */
export interface AscResult { binary: Uint8Array | null; diagnostics: AscDiagnostic[]; error: string | null; sources: Record<string, string> }

/**
 * Runs asc on `args` whose entry file `entry` has the text `source`; other
 * files the kernel imports are read with readFile (relative to the kernel's
 * directory; null when missing). asc's own asconfig.json lookups get null.
 */
export type AscRunner = (args: string[], entry: string, source: string, readFile: (path: string) => Promise<string | null>) => Promise<AscResult>;

/** The entry file name the kernel is compiled under (diagnostics in it are the user's file). */
export const AS_ENTRY = 'tessera-kernel.ts';

/**
 * asc in this thread (the compiler is imported on first use). In Node under
 * tsx, prefer load-node.ts's worker runner: tsx makes importing the
 * compiler take tens of seconds.
 */
export const runAscInProcess: AscRunner = async (args, entry, source, readFile) => {
  const sources: Record<string, string> = { [entry]: source };
  let binary: Uint8Array | null = null;
  const diagnostics: AscDiagnostic[] = [];
  const { default: asc } = await import('assemblyscript/asc');
  const sink = { write: () => {} };
  const result = await asc.main(args, {
    readFile: async (name) => {
      const n = name.replace(/\\/g, '/').replace(/^\.\//, '');
      if (n === entry) return source;
      if (n === 'asconfig.json' || n === 'package.json' || n.split('/').includes('node_modules')) return null;
      const text = await readFile(n);
      if (text !== null) sources[n] = text;
      return text;
    },
    writeFile: (name, contents) => { if (name.endsWith('.wasm') && typeof contents !== 'string') binary = contents; },
    listFiles: () => [],
    stdout: sink as never,
    stderr: sink as never,
    reportDiagnostic: (d) => {
      const r = d.range;
      diagnostics.push({ message: d.message, code: d.code, category: d.category, range: r ? { start: r.start, end: r.end, source: { normalizedPath: r.source.normalizedPath } } : null });
    },
  });
  return { binary, diagnostics, error: result.error ? result.error.message : null, sources };
};

export interface CompileOptions {
  /** Reads another file the kernel imports (path relative to the kernel's directory); null when missing. */
  readFile?: (path: string) => Promise<string | null>;
  /** How to run the compiler (default: runAscInProcess). */
  asc?: AscRunner;
}

/**
 * Compile a user's AssemblyScript kernel and check it against the op's
 * contract. Every failure is a KernelRejectedError whose message names the
 * problem: compile errors as file:line:column with the line and a caret,
 * a missing export, a wrong parameter count or types, imports the wasm
 * backend does not provide, static data that does not fit its region.
 */
export async function compileAsKernel(op: string, file: string, source: string, options: CompileOptions = {}): Promise<AsKernel> {
  if (!isCustomAsOp(op)) {
    throw new KernelRejectedError(op, `${file}: custom AssemblyScript kernels can replace ${CUSTOM_WASM_OPS.join(', ')}; '${op}' is not one of them`);
  }
  const run = options.asc ?? runAscInProcess;
  const result = await run(ascArgs(op, AS_ENTRY), AS_ENTRY, source, options.readFile ?? (async () => null));
  const errors = result.diagnostics.filter((d) => d.category === 3);
  if (errors.length) throw new KernelRejectedError(op, formatAsDiagnostics(op, file, AS_ENTRY, new Map(Object.entries(result.sources)), errors));
  if (result.error || !result.binary) {
    throw new KernelRejectedError(op, `AssemblyScript compilation of the custom ${op} kernel ${file} failed: ${result.error ?? 'no output'}`);
  }
  return checkAsModule(op, file, source, result.binary);
}

/** "file:line:col: error TSnnnn: message", the line and a caret, per diagnostic (positions in the user's file). */
export function formatAsDiagnostics(op: string, file: string, entry: string, sources: ReadonlyMap<string, string>, errors: readonly AscDiagnostic[]): string {
  const parts = errors.map((d) => {
    const what = `error TS${d.code}: ${d.message}`;
    if (!d.range) return `${file}: ${what}`;
    const path = d.range.source.normalizedPath;
    const text = sources.get(path);
    const shown = path === entry ? file : path.startsWith('~lib/') ? `(AssemblyScript library ${path})` : path;
    if (text === undefined) return `${shown}: ${what}`;
    const before = text.slice(0, d.range.start);
    const line = before.split('\n').length;
    const col = d.range.start - (before.lastIndexOf('\n') + 1) + 1;
    const lineText = text.split('\n')[line - 1] ?? '';
    const len = Math.max(1, Math.min(d.range.end - d.range.start, lineText.length - col + 1));
    return `${shown}:${line}:${col}: ${what}\n  ${line} | ${lineText}\n  ${' '.repeat(String(line).length)} | ${' '.repeat(col - 1)}${'^'.repeat(len)}`;
  });
  return `AssemblyScript compilation of the custom ${op} kernel failed:\n${parts.join('\n')}`;
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

/** A tiny module importing m.f of type (i32 × n) → (): linking a function to it checks the function's type. */
function signatureProbe(n: number): WebAssembly.Module {
  const type = [0x60, n, ...Array(n).fill(0x7f), 0x00];
  const typeSec = [0x01, type.length + 1, 0x01, ...type];
  const imp = [0x01, 0x01, 0x6d, 0x01, 0x66, 0x00, 0x00]; // 1 import: "m" "f" func type 0
  const impSec = [0x02, imp.length, ...imp];
  return new WebAssembly.Module(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...typeSec, ...impSec]));
}

/** Check a compiled kernel module (from asc, or a precompiled .wasm) against the contract of `op`. */
export async function checkAsModule(op: CustomWasmOp, file: string, source: string, bytes: Uint8Array): Promise<AsKernel> {
  const contract = AS_CONTRACTS[op];
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
    await WebAssembly.instantiate(signatureProbe(n), { m: { f: fn as WebAssembly.ImportValue } });
  } catch {
    throw new KernelRejectedError(op, `${file}: ${op}'s parameter or result types do not match the contract: ${contract.signature} (every parameter is a 32-bit integer, usize or i32, and it returns nothing)`);
  }
  return { language: 'assemblyscript', op, file, source, module, bytes, data };
}
