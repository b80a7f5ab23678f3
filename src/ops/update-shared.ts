// What the fused optimizer updates (adam, sgd, adamw, rmsprop) share on
// WebGPU: every buffer of an update is a parameter-shaped vec4 range (the
// backend's arenas: params, grads, and one arena per optimizer state, with
// identical layouts and zero padding), so consecutive update records fuse
// into one dispatch over whole arenas, and one record is the same kernel
// over one parameter's ranges. A state buffer an optimizer variant does
// not keep (null: SGD without momentum, RMSprop's optional ones) binds a
// small unused buffer the kernel never touches (an override turns it off).

import type { Constants, GpuDispatch, GpuEnv } from './types.js';

/** Workgroups of 64 striding over count4 vec4s: few, long-lived invocations (llvmpipe pays per workgroup; the update is memory-bound). */
export const updateGrid = (count4: number): [number, number] => [Math.min(64, Math.ceil(count4 / 64)), 1];

/** Bindings for buffers of one record; null ones take unused buffers (distinct ones for two writable bindings). */
function bind(env: GpuEnv, names: readonly (string | null)[]): GPUBufferBinding[] {
  let spare = 0;
  return names.map((n) => (n !== null ? env.range(n) : spare++ === 0 ? env.range(null) : env.scratch()));
}

/**
 * The dispatch of one update record: the op's kernel (or a user's, on the
 * same layout) over `names`' ranges; `constants(count4)` are its overrides.
 */
export async function updateDispatch(
  env: GpuEnv, kernel: string, param: string, size: number, names: readonly (string | null)[], constants: (count4: number) => Constants,
): Promise<GpuDispatch[]> {
  const count4 = Math.ceil(size / 4);
  const c = constants(count4);
  const b = bind(env, names);
  if (env.custom) return [await env.custom(param, c, b, 1, size)];
  return [await env.dispatch(kernel, param, c, b, updateGrid(count4))];
}

/**
 * One dispatch over several consecutive update records, when every binding's
 * buffers lie in one arena in record order (null where they cannot: a user's
 * kernel, a single record, buffers not laid out so). `columns[k]` holds
 * binding k's buffer of each record (all null for a state the variant lacks).
 */
export async function fuseUpdates(
  env: GpuEnv, kernel: string, count: number, columns: readonly (readonly (string | null)[])[], constants: (count4: number) => Constants,
): Promise<GpuDispatch[] | null> {
  if (env.custom || count < 2) return null;
  const absent = columns.map((c) => c.every((n) => n === null));
  const spans = columns.map((c, k) => (absent[k] ? null : c.some((n) => n === null) ? null : env.span(c as string[])));
  if (spans.some((s, k) => !absent[k] && s === null)) return null;
  const present = spans.filter((s): s is GPUBufferBinding => s !== null);
  const bytes = present[0]!.size ?? 0;
  const floats = bytes / 4;
  if (present.some((s) => s.size !== bytes) || floats % 4 !== 0) return null;
  const count4 = floats / 4;
  let spare = 0;
  const b = spans.map((s) => s ?? (spare++ === 0 ? env.range(null) : env.scratch()));
  return [await env.dispatch(kernel, 'all parameters', constants(count4), b, updateGrid(count4))];
}
