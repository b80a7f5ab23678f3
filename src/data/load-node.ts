// A model's dataset in Node, whatever its format: the one entry the
// commands call. Each format's reader lives in its own module; this one
// only picks it.

import type { ModelSpec } from '../config/types.js';
import { loadIdx, type LoadedData } from './node.js';

export type { LoadedData } from './node.js';

/** The train, test (and validation, when the model names one) sets of a model, with what they hold. Paths are relative to `baseDir`. */
export async function loadDataset(spec: ModelSpec, baseDir: string): Promise<LoadedData> {
  const format = spec.dataset.format ?? 'idx';
  switch (format) {
    case 'idx': return loadIdx(spec.dataset, baseDir);
    default: throw new Error(`dataset format ${format} is not supported yet`);
  }
}
