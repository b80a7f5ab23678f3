// Custom AssemblyScript kernels for the wasm backend: compiling a user's
// .ts file with the `assemblyscript` compiler (loaded on first use), mapping
// its diagnostics to lines and columns of the user's file, and checking the
// compiled module against the op's contract (docs/kernels.md) before the
// wasm backend links it.
//
// A custom kernel is its own wasm module that imports the wasm backend's
// memory (`env.memory`, shared: every pointer is a byte offset into it) and
// exports one function named after the op, with exactly the built-in
// kernel's signature (as-contract.ts, from the op registry). It is compiled with
//   --runtime stub --enable simd -O3 --importMemory --memoryBase <region>
// where <region> is the op's own static-data region below the built-in
// module's data (customDataRegion in src/runtime/wasm/module.ts), so the
// kernel's constants and `memory.data` scratch never overlap the backend's
// heap. Kernels must not allocate managed objects (no `new`, arrays or
// string concatenation at run time): the stub runtime would allocate from
// the end of the static data, which is the backend's memory.
//
// Browser-safe apart from the compiler import (reading files is the caller's job).

import { customDataRegion } from '../runtime/wasm/module.js';
import { asContract, checkAsModule, type AsKernel } from './as-contract.js';
import { KernelRejectedError } from './errors.js';

export * from './as-contract.js';

/** The asc arguments for a kernel of `op` (entry file name relative to the base directory). */
export function ascArgs(op: string, entry: string): string[] {
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
 * tsx, prefer src/custom/load-node.ts's worker runner: tsx makes importing the
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
  asContract(op, file); // a KernelRejectedError for an op without one, before the compiler loads
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

