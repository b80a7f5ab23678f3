// Node only: reading users' kernel files for `tessera bench` and `tessera train`.

import { readFile } from 'node:fs/promises';
import { extname, relative } from 'node:path';
import { parseWgslKernel, type WgslKernel } from './custom-wgsl.js';
import { KernelRejectedError } from './runner.js';

/** A path as the user would type it from the working directory. */
export function displayPath(file: string): string {
  const r = relative(process.cwd(), file);
  return r.startsWith('..') || r === '' ? file : r.startsWith('.') ? r : `./${r}`;
}

/** Read and contract-check a custom kernel file (absolute or relative to the working directory). Errors are KernelRejectedError (a user error). */
export async function loadCustomKernel(op: string, file: string): Promise<WgslKernel> {
  const shown = displayPath(file);
  const ext = extname(file).toLowerCase();
  if (ext === '.ts' || ext === '.as') {
    throw new KernelRejectedError(op, `${shown}: custom AssemblyScript kernels are not supported yet; write the ${op} kernel in WGSL (docs/kernels.md)`);
  }
  if (ext !== '.wgsl') throw new KernelRejectedError(op, `${shown}: a custom kernel is a .wgsl file (docs/kernels.md)`);
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (e) {
    throw new KernelRejectedError(op, `cannot read the custom ${op} kernel ${shown}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  return parseWgslKernel(op, shown, source);
}

/** Every kernel of a model file's `kernels:` (paths already absolute). */
export async function loadCustomKernels(kernels: Record<string, string> | undefined): Promise<Record<string, WgslKernel>> {
  const out: Record<string, WgslKernel> = {};
  for (const [op, file] of Object.entries(kernels ?? {})) out[op] = await loadCustomKernel(op, file);
  return out;
}
