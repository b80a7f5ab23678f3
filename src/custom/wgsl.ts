// Custom WGSL kernels: reading a user's .wgsl file, checking it against the
// op's contract (the registry's `custom`, src/ops; docs/kernels.md is
// generated from it), compiling it with the prelude prepended, and mapping
// compiler messages back to lines and columns of the user's file.
//
// A custom kernel replaces one op. It is compiled as `prelude + "\n" + file`
// (the prelude declares the Ctx struct, `ctx` at binding 0, the RNG and
// flat_index), so the file declares only its own storage bindings 1…, its
// overrides and `@compute fn main`. Its dispatch rule is stated in the file:
//
//   const TILE_M: u32 = 32u;   // output rows one workgroup covers
//   const TILE_N: u32 = 64u;   // output columns one workgroup covers
//
// and the host dispatches (ceil(cols / TILE_N), ceil(rows / TILE_M))
// workgroups over the op's output (contract.output: rows × cols, which the
// op's webgpu.dispatches passes to env.custom).
// Browser-safe: no Node imports (reading the file is the caller's job).

import { WGSL_SOURCES } from '../generated/kernels.js';
import { isOpKind, opDef, replaceableOps } from '../ops/index.js';
import type { CustomContract } from '../ops/types.js';
import type { CustomKernel } from '../runtime/webgpu/op-env.js';
import { KernelRejectedError } from './errors.js';

export type { Access } from '../ops/types.js';
export type WgslContract = CustomContract;

/** Whether a user's WGSL may replace `op`: every registered op with a contract. */
export function isCustomWgslOp(op: string): boolean {
  return isOpKind(op) && opDef(op).custom !== null;
}

/** The contract of `op`'s replacement kernel; a KernelRejectedError naming the replaceable ops otherwise. */
export function wgslContract(op: string, file = op): WgslContract {
  const c = isOpKind(op) ? opDef(op).custom : null;
  if (!c) throw new KernelRejectedError(op, `${file}: custom WGSL kernels can replace ${replaceableOps().map((d) => d.kind).join(', ')}; '${op}' is not one of them`);
  return c;
}

export interface WgslKernel {
  op: string;
  /** The file as the user named it (for messages). */
  file: string;
  /** The user's source. */
  source: string;
  tileM: number;
  tileN: number;
  /** Override names the source declares. */
  declaredOverrides: Set<string>;
}

/** Lines the prelude adds before the user's line 1. */
export function preludeLineCount(sources: Readonly<Record<string, string>> = WGSL_SOURCES): number {
  return (sources.prelude ?? '').split('\n').length;
}

/** The complete module source: the prelude, a newline, the user's file. */
export function fullSource(k: WgslKernel, sources: Readonly<Record<string, string>> = WGSL_SOURCES): string {
  return `${sources.prelude ?? ''}\n${k.source}`;
}

/** Blank out comments (keeping line and column positions) so declarations are found in code only. */
function stripComments(src: string): string {
  let out = '';
  let i = 0;
  let depth = 0;
  while (i < src.length) {
    if (depth === 0 && src.startsWith('//', i)) {
      while (i < src.length && src[i] !== '\n') { out += ' '; i++; }
    } else if (src.startsWith('/*', i)) {
      depth++; out += '  '; i += 2;
    } else if (depth > 0 && src.startsWith('*/', i)) {
      depth--; out += '  '; i += 2;
    } else {
      out += depth > 0 && src[i] !== '\n' ? ' ' : src[i];
      i++;
    }
  }
  return out;
}

function lineOf(src: string, index: number): number {
  let n = 1;
  for (let i = 0; i < index; i++) if (src.charCodeAt(i) === 10) n++;
  return n;
}

export interface DeclaredBinding { group: number; binding: number; space: string; access: string; name: string; line: number }

/** `@group(g) @binding(b) var<space[, access]> name` declarations (attributes in either order). */
export function declaredBindings(source: string): DeclaredBinding[] {
  const code = stripComments(source);
  const re = /@(group|binding)\s*\(\s*(\d+)\s*\)\s*@(group|binding)\s*\(\s*(\d+)\s*\)\s*var\s*(?:<\s*([a-z_]+)\s*(?:,\s*([a-z_]+)\s*)?>)?\s*([A-Za-z_][A-Za-z0-9_]*)/g;
  const out: DeclaredBinding[] = [];
  for (const m of code.matchAll(re)) {
    const a = { [m[1]!]: Number(m[2]), [m[3]!]: Number(m[4]) } as Record<string, number>;
    out.push({ group: a.group ?? 0, binding: a.binding ?? 0, space: m[5] ?? 'handle', access: m[6] ?? (m[5] === 'storage' ? 'read' : ''), name: m[7]!, line: lineOf(code, m.index!) });
  }
  return out;
}

function declaredOverrides(code: string): Set<string> {
  return new Set([...code.matchAll(/(?:^|[\s;}])override\s+([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!));
}

/** Integer value of `const NAME … = <int>` or `override NAME … = <int>`. */
function intConstant(code: string, name: string): number | undefined {
  const m = new RegExp(`(?:const|override)\\s+${name}\\s*(?::\\s*[a-z0-9]+\\s*)?=\\s*(\\d+)[ui]?\\s*;`).exec(code);
  return m ? Number(m[1]) : undefined;
}

/**
 * Checks a user's WGSL against the op's contract before compiling it:
 * bindings (group 0, numbers 1…, storage with the contract's access; 0 is
 * the prelude's), the overrides the host sets, the TILE_M/TILE_N dispatch
 * constants and the entry point. Throws KernelRejectedError naming what is wrong.
 */
export function parseWgslKernel(op: string, file: string, source: string): WgslKernel {
  const contract = wgslContract(op, file);
  const code = stripComments(source);
  const problems: string[] = [];
  const seen = new Set<number>();
  for (const b of declaredBindings(source)) {
    const at = `${file}:${b.line}: binding ${b.binding} ('${b.name}')`;
    if (b.group !== 0) { problems.push(`${at} is in group ${b.group}; the ${op} contract uses group 0 only`); continue; }
    if (b.binding === 0) { problems.push(`${at}: binding 0 is the context uniform 'ctx' that the prelude declares; number the kernel's buffers from 1`); continue; }
    const want = contract.bindings[b.binding - 1];
    if (!want) { problems.push(`${at} is not in the ${op} contract, which has bindings 1–${contract.bindings.length} (${contract.bindings.map((x, i) => `${i + 1} ${x.name}`).join(', ')})`); continue; }
    if (seen.has(b.binding)) problems.push(`${at} is declared twice`);
    seen.add(b.binding);
    const wantText = want.access === 'read' ? 'var<storage, read>' : 'var<storage, read_write>';
    const gotText = b.space === 'storage' ? `var<storage, ${b.access}>` : `var<${b.space}>`;
    const okAccess = b.space === 'storage' && (want.access === 'read' ? b.access === 'read' : b.access === 'read_write');
    if (!okAccess) problems.push(`${at} is declared ${gotText}; the ${op} contract has binding ${b.binding} (${want.name}) as ${wantText}`);
  }
  const overrides = declaredOverrides(code);
  const missing = contract.overrides.filter((o) => !overrides.has(o));
  if (missing.length) problems.push(`${file}: the ${op} contract sets the overrides ${contract.overrides.join(', ')}; declare ${missing.map((m) => `'override ${m}'`).join(', ')}`);
  const tileM = intConstant(code, 'TILE_M'), tileN = intConstant(code, 'TILE_N');
  if (!tileM || !tileN) problems.push(`${file}: declare the dispatch tile as integer constants, e.g. 'const TILE_M: u32 = 32u;' and 'const TILE_N: u32 = 64u;' (the rows and columns of the output ${contract.outputNames[0]}×${contract.outputNames[1]} one workgroup covers)`);
  if (!/@compute[\s\S]*?fn\s+main\s*\(/.test(code)) problems.push(`${file}: no entry point: declare '@compute @workgroup_size(…) fn main(…)'`);
  if (problems.length) throw new KernelRejectedError(op, `custom ${op} kernel rejected:\n  ${problems.join('\n  ')}`);
  return { op, file, source, tileM: tileM!, tileN: tileN!, declaredOverrides: overrides };
}

/** The workgroup grid of a custom kernel over an output of rows × cols (the op contract's `output`). */
export function customGrid(k: WgslKernel, rows: number, cols: number): [number, number] {
  return [Math.ceil(cols / k.tileN), Math.ceil(rows / k.tileM)];
}

/** The overrides to pass: those of the contract the kernel declares (all of them, after parseWgslKernel). */
export function customConstants(k: WgslKernel, values: Record<string, number | boolean>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries(values)) if (k.declaredOverrides.has(name)) out[name] = typeof v === 'boolean' ? (v ? 1 : 0) : v;
  return out;
}

/**
 * Compile the kernel on a device. Compiler errors become a
 * KernelRejectedError whose message gives file:line:column in the user's
 * file, the source line and a caret.
 */
export async function compileWgslKernel(device: GPUDevice, k: WgslKernel, sources: Readonly<Record<string, string>> = WGSL_SOURCES): Promise<GPUShaderModule> {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label: `kernel:${k.op} custom ${k.file}`, code: fullSource(k, sources) });
  const info = await module.getCompilationInfo();
  await device.popErrorScope(); // the messages below say the same, with positions
  const errors = info.messages.filter((m) => m.type === 'error');
  if (!errors.length) return module;
  throw new KernelRejectedError(k.op, formatCompileMessages(k, errors, preludeLineCount(sources)));
}

/** "file:line:col: error: message", the line, and a caret, for each message (line numbers of the user's file). */
export function formatCompileMessages(k: WgslKernel, messages: readonly { lineNum: number; linePos: number; length: number; message: string; type: string }[], preludeLines: number): string {
  const lines = k.source.split('\n');
  const parts = messages.map((m) => {
    const line = m.lineNum - preludeLines;
    if (line < 1) return `${k.file}: ${m.type}: ${m.message} (in the prelude, line ${m.lineNum}; a name of yours may clash with one the prelude declares: Ctx, ctx, mix32, hash_at, rng_key, flat_index)`;
    const text = lines[line - 1] ?? '';
    const caret = ' '.repeat(Math.max(0, m.linePos - 1)) + '^'.repeat(Math.max(1, Math.min(m.length || 1, text.length - m.linePos + 1)));
    return `${k.file}:${line}:${m.linePos}: ${m.type}: ${m.message}\n  ${line} | ${text}\n  ${' '.repeat(String(line).length)} | ${caret}`;
  });
  return `WGSL compilation of the custom ${k.op} kernel failed:\n${parts.join('\n')}`;
}

/**
 * The kernel as the webgpu backend takes it (WebGpuBackendOptions.customKernels):
 * compiled once per device, one pipeline per op instance, grid from TILE_M/TILE_N.
 */
export function toCustomKernel(k: WgslKernel, sources: Readonly<Record<string, string>> = WGSL_SOURCES): CustomKernel {
  const modules = new WeakMap<GPUDevice, Promise<GPUShaderModule>>();
  return {
    label: k.file,
    async build(device, layout, values, rows, cols) {
      let mp = modules.get(device);
      if (!mp) {
        mp = compileWgslKernel(device, k, sources);
        modules.set(device, mp);
      }
      const module = await mp;
      const label = `kernel:${k.op} custom ${k.file}`;
      device.pushErrorScope('validation');
      device.pushErrorScope('internal');
      let pipeline: GPUComputePipeline | null = null;
      let thrown: unknown;
      try {
        pipeline = await device.createComputePipelineAsync({
          label,
          layout: device.createPipelineLayout({ label, bindGroupLayouts: [layout] }),
          compute: { module, entryPoint: 'main', constants: customConstants(k, values) },
        });
      } catch (e) {
        thrown = e;
      }
      const errors = [await device.popErrorScope(), await device.popErrorScope()].filter((e): e is GPUError => e !== null);
      if (thrown || errors.length || !pipeline) {
        const why = errors.map((e) => e.message).join('; ') || (thrown instanceof Error ? thrown.message : String(thrown));
        throw new KernelRejectedError(k.op, `${k.file}: the ${k.op} pipeline could not be created (output ${rows}×${cols}): ${why.trim()}`);
      }
      return { pipeline, grid: customGrid(k, rows, cols) };
    },
  };
}
