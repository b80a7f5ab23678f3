// Node only: reading users' kernel files for `tessera bench`, `train`, `eval` and `predict`:
// .wgsl (webgpu backend) and AssemblyScript .ts (wasm backend, compiled here).

import { readFile } from 'node:fs/promises';
import { dirname, extname, relative } from 'node:path';
import { Worker } from 'node:worker_threads';
import { asContract, compileAsKernel, type AscResult, type AscRunner, type AsKernel } from './assemblyscript.js';
import { KernelRejectedError } from './errors.js';
import { parseWgslKernel, type WgslKernel } from './wgsl.js';

/** A custom kernel as loaded from its file: WGSL for the webgpu backend, AssemblyScript (compiled) for wasm. */
export type LoadedKernel = WgslKernel | AsKernel;

/** A path as the user would type it from the working directory. */
export function displayPath(file: string): string {
  const r = relative(process.cwd(), file);
  return r.startsWith('..') || r === '' ? file : r.startsWith('.') ? r : `./${r}`;
}

/** The backend a kernel file is for, by its extension (null: not a kernel file). */
export function kernelFileBackend(file: string): 'webgpu' | 'wasm' | null {
  const ext = extname(file).toLowerCase();
  return ext === '.wgsl' ? 'webgpu' : ext === '.ts' ? 'wasm' : null;
}

// asc runs in a worker thread without the parent's loader hooks: under tsx
// (tests, `npm run bench`), importing the compiler in-process takes ~20 s, in a
// plain worker about one. The worker reads the kernel's imports from its directory.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFile } = require('node:fs/promises');
const { join } = require('node:path');
(async () => {
  const { ascUrl, args, entry, source, dir } = workerData;
  const asc = (await import(ascUrl)).default;
  const sources = { [entry]: source };
  let binary = null;
  const diagnostics = [];
  const sink = { write() {} };
  const result = await asc.main(args, {
    async readFile(name) {
      const n = name.replace(/\\\\/g, '/').replace(/^\\.\\//, '');
      if (n === entry) return source;
      if (n === 'asconfig.json' || n === 'package.json' || n.split('/').includes('node_modules')) return null;
      try { const text = await readFile(join(dir, n), 'utf8'); sources[n] = text; return text; } catch { return null; }
    },
    writeFile(name, contents) { if (name.endsWith('.wasm') && typeof contents !== 'string') binary = contents; },
    listFiles() { return []; },
    stdout: sink, stderr: sink,
    reportDiagnostic(d) {
      const r = d.range;
      diagnostics.push({ message: d.message, code: d.code, category: d.category, range: r ? { start: r.start, end: r.end, source: { normalizedPath: r.source.normalizedPath } } : null });
    },
  });
  parentPort.postMessage({ binary, diagnostics, error: result.error ? result.error.message : null, sources });
})().catch((e) => parentPort.postMessage({ binary: null, diagnostics: [], error: String((e && e.message) || e), sources: {} }));
`;

/** An AscRunner that compiles in a worker thread, reading imports relative to `dir`. */
export function workerAscRunner(dir: string): AscRunner {
  return (args, entry, source) => new Promise<AscResult>((resolve, reject) => {
    const ascUrl = import.meta.resolve('assemblyscript/asc');
    const worker = new Worker(WORKER, { eval: true, execArgv: [], workerData: { ascUrl, args, entry, source, dir } });
    let done = false;
    worker.once('message', (m: AscResult) => { done = true; resolve(m); void worker.terminate(); });
    worker.once('error', (e) => { done = true; reject(e); });
    worker.once('exit', (code) => { if (!done) reject(new Error(`the AssemblyScript compiler exited (code ${code})`)); });
  });
}

/** Read and contract-check a custom kernel file (absolute or relative to the working directory). Errors are KernelRejectedError (a user error). */
export async function loadCustomKernel(op: string, file: string): Promise<LoadedKernel> {
  const shown = displayPath(file);
  const backend = kernelFileBackend(file);
  if (!backend) throw new KernelRejectedError(op, `${shown}: a custom kernel is a .wgsl file (webgpu backend) or an AssemblyScript .ts file (wasm backend); see docs/kernels.md`);
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (e) {
    throw new KernelRejectedError(op, `cannot read the custom ${op} kernel ${shown}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (backend === 'webgpu') return parseWgslKernel(op, shown, source);
  asContract(op, shown); // rejects an op without a contract before the compiler starts
  try {
    return await compileAsKernel(op, shown, source, { asc: workerAscRunner(dirname(file)) });
  } catch (e) {
    if (e instanceof KernelRejectedError) throw e;
    throw new KernelRejectedError(op, `${shown}: the AssemblyScript compiler failed: ${(e as Error).message}`);
  }
}

/** Every kernel of a model file's `kernels:` (paths already absolute). */
export async function loadCustomKernels(kernels: Record<string, string> | undefined): Promise<Record<string, LoadedKernel>> {
  const out: Record<string, LoadedKernel> = {};
  for (const [op, file] of Object.entries(kernels ?? {})) out[op] = await loadCustomKernel(op, file);
  return out;
}
