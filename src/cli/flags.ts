// The flags and positional that several commands take the same way: a
// model file, integer options and --backend.

import type { ModelSpec } from '../config/types.js';
import { isBackendRequest, type BackendRequest } from '../runtime/select.js';
import type { ParsedCommandArgs } from './command.js';
import { UsageError } from './user-error.js';

/** An integer flag value, or undefined when the flag is absent. */
export function intFlag(values: ParsedCommandArgs['values'], name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const text = String(raw);
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? (min === 1 ? 'a positive integer' : `an integer >= ${min}`) : `an integer from ${min} to ${max}`;
    throw new UsageError(`--${name} must be ${range}, got '${text}'`);
  }
  return n;
}

/** --backend, else the model file's `backend:`. */
export function backendFlag(values: ParsedCommandArgs['values'], spec: ModelSpec): BackendRequest {
  const raw = values.backend === undefined ? spec.backend : String(values.backend);
  if (!isBackendRequest(raw)) throw new UsageError(`--backend must be one of auto, webgpu, wasm, js; got '${raw}'`);
  return raw;
}

/** --threads N, else the model file's `threads:`, else auto; with where it came from (the backend line says it). */
export function threadsFlag(values: ParsedCommandArgs['values'], spec: ModelSpec): { threads: number | 'auto'; source: string } {
  if (values.threads !== undefined) {
    if (String(values.threads) === 'auto') return { threads: 'auto', source: '--threads auto' };
    const n = intFlag(values, 'threads', 1, 256)!;
    return { threads: n, source: `--threads ${n}` };
  }
  const t = spec.threads ?? 'auto';
  return { threads: t, source: `threads: ${t} in the model file` };
}

/** A single model-file positional. */
export function modelFile(positionals: string[]): string {
  if (positionals.length === 0) throw new UsageError('no model file given');
  if (positionals.length > 1) throw new UsageError(`one model file expected, got ${positionals.length}: ${positionals.join(' ')}`);
  return positionals[0]!;
}
