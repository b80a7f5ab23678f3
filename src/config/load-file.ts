// Node-only: reads a model file from disk and validates it. Kept apart from
// validate.ts, and Node's modules are imported lazily inside the functions,
// so the package entry can export loadModelConfig (`import { loadModelConfig }
// from 'tessera'`) and still load in a browser, where only calling it fails.
// Browser bundlers should treat `node:*` as external (esbuild: external: ['node:*']).

import { ConfigErrors, type ConfigError } from './errors.js';
import type { ModelSpec } from './types.js';
import type { DataFacts } from '../data/types.js';
import { validateModelConfig, type ValidationResult } from './validate.js';

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
};

/**
 * Reads and validates a model file. Never throws for a bad or unreadable
 * file: an unreadable one gives a single error without a position. On
 * success, the dataset and kernel paths in the spec are resolved against
 * the file's directory (so they no longer depend on the working directory).
 */
export async function validateModelFile(path: string, options: { data?: DataFacts } = {}): Promise<ValidationResult> {
  const { readFile } = await import('node:fs/promises');
  const { dirname, resolve } = await import('node:path');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const why = READ_ERRORS[code] ?? (e as Error).message;
    const error: ConfigError = { file: path, line: 0, column: 0, message: `cannot read file: ${why}`, code: 'file', severity: 'error' };
    return { ok: false, errors: [error], warnings: [] };
  }
  const { existsSync } = await import('node:fs');
  const dir = dirname(resolve(path));
  // Missing kernel files are reported at their `kernels:` entry, not when training starts.
  const result = validateModelConfig(text, path, { kernelFileExists: (p) => existsSync(resolve(dir, p)), ...(options.data ? { data: options.data } : {}) });
  if (result.ok) resolvePaths(result.spec, (p) => resolve(dir, p));
  return result;
}

/** Reads, validates and returns a model file's spec with defaults applied; throws ConfigErrors if it is invalid. */
export async function loadModelConfig(path: string): Promise<ModelSpec> {
  const result = await validateModelFile(path);
  if (!result.ok) throw new ConfigErrors(result.errors, result.warnings);
  return result.spec;
}

/** Makes file paths inside the spec absolute, relative to the model file's directory. */
function resolvePaths(spec: ModelSpec, resolve: (p: string) => string): void {
  const ds = spec.dataset;
  for (const key of ['train_images', 'train_labels', 'test_images', 'test_labels', 'validation_images', 'validation_labels', 'path', 'train_path', 'test_path'] as const) {
    if (ds[key] !== undefined) ds[key] = resolve(ds[key]!);
  }
  if (spec.kernels) {
    for (const op of Object.keys(spec.kernels)) spec.kernels[op] = resolve(spec.kernels[op]!);
  }
}
