// What is done to tabular data between the file and the backends, and kept
// with the weights so eval and predict do exactly the same: the seeded
// test_split, feature normalisation with statistics of the training split
// only, and the class names of string labels. Browser-safe.

import { hashAt, rngKey, STREAM_TEST_SPLIT } from '../runtime/rng.js';
import { DataError } from './errors.js';
import type { DatasetTensors } from './types.js';

export type NormalizeMethod = 'none' | 'standardize' | 'minmax';

/** Per-feature statistics: x' = (x - shift[j]) / scale[j]. */
export interface NormalizeStats { method: Exclude<NormalizeMethod, 'none'>; shift: number[]; scale: number[] }

/** What a model's weights carry about its data, as safetensors metadata (string values). */
/** What is saved with the weights so eval, predict and generate see the data as training did; vocabulary: a text model's characters by id. */
export interface DataMetadata { normalize?: NormalizeStats; classNames?: string[]; vocabulary?: string[] }

/** The metadata keys (JSON values). */
export const META_NORMALIZE = 'tessera_normalize';
export const META_CLASS_NAMES = 'tessera_class_names';
export const META_VOCABULARY = 'tessera_vocabulary';

export function encodeDataMetadata(m: DataMetadata): Record<string, string> {
  return {
    ...(m.normalize ? { [META_NORMALIZE]: JSON.stringify(m.normalize) } : {}),
    ...(m.classNames ? { [META_CLASS_NAMES]: JSON.stringify(m.classNames) } : {}),
    ...(m.vocabulary ? { [META_VOCABULARY]: JSON.stringify(m.vocabulary) } : {}),
  };
}

/** The data metadata of a weights file (what encodeDataMetadata wrote); `source` names the file in errors. */
export function decodeDataMetadata(meta: Record<string, string>, source: string): DataMetadata {
  const out: DataMetadata = {};
  try {
    if (meta[META_NORMALIZE] !== undefined) out.normalize = JSON.parse(meta[META_NORMALIZE]) as NormalizeStats;
    if (meta[META_CLASS_NAMES] !== undefined) out.classNames = JSON.parse(meta[META_CLASS_NAMES]) as string[];
    if (meta[META_VOCABULARY] !== undefined) out.vocabulary = JSON.parse(meta[META_VOCABULARY]) as string[];
  } catch {
    throw new DataError(source, `${source}: the ${META_NORMALIZE} / ${META_CLASS_NAMES} / ${META_VOCABULARY} metadata is not valid JSON`);
  }
  return out;
}

/** Example indices in a seeded shuffle (Fisher–Yates on the model's seed, its own RNG stream). */
export function shuffledOrder(n: number, seed: number): Uint32Array {
  const out = Uint32Array.from({ length: n }, (_, i) => i);
  const key = rngKey(seed, STREAM_TEST_SPLIT, 0);
  for (let i = n - 1; i > 0; i--) {
    const j = hashAt(key, i) % (i + 1);
    const t = out[i]!; out[i] = out[j]!; out[j] = t;
  }
  return out;
}

/** The examples at `rows`, copied (features, labels, targets). */
export function takeRows(data: DatasetTensors, rows: ArrayLike<number>): DatasetTensors {
  const bpe = data.dtype === 'float32' ? 4 : 1, rowBytes = data.features * bpe, W = data.targetWidth ?? 0;
  const images = new Uint8Array(rows.length * rowBytes), labels = new Uint8Array(rows.length);
  const targets = data.targets && W ? new Float32Array(rows.length * W) : undefined;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    images.set(data.images.subarray(r * rowBytes, (r + 1) * rowBytes), i * rowBytes);
    labels[i] = data.labels[r]!;
    if (targets) targets.set(data.targets!.subarray(r * W, (r + 1) * W), i * W);
  }
  return { ...data, images, labels, count: rows.length, ...(targets ? { targets, targetWidth: W } : {}) };
}

/**
 * Hold out ceil(count · fraction) examples as the test set (as
 * scikit-learn's train_test_split), chosen by a shuffle with the model's
 * seed; both parts keep the shuffled order (so a validation_split of the
 * training part is not one class of a sorted file).
 */
export function splitTest(data: DatasetTensors, fraction: number, seed: number, source: string): { train: DatasetTensors; test: DatasetTensors } {
  const nTest = Math.ceil(data.count * fraction);
  if (nTest >= data.count) throw new DataError(source, `${source}: ${data.count} examples are too few to hold out test_split ${fraction}: nothing would be left to train on`);
  const order = shuffledOrder(data.count, seed);
  return { test: takeRows(data, order.subarray(0, nTest)), train: takeRows(data, order.subarray(nTest)) };
}

/** Float32 features of a dataset as a Float32Array (a view when aligned, else a copy). */
function floats(data: DatasetTensors): Float32Array {
  const b = data.images;
  if (b.byteOffset % 4 === 0) return new Float32Array(b.buffer, b.byteOffset, data.count * data.features);
  return new Float32Array(b.slice(0, data.count * data.features * 4).buffer);
}

/** The training split's statistics: standardize (mean, population std; std 0 counts as 1) or minmax (min, max - min; 0 counts as 1). */
export function normalizeStats(train: DatasetTensors, method: Exclude<NormalizeMethod, 'none'>): NormalizeStats {
  if (train.dtype !== 'float32') throw new Error('normalize needs float32 features');
  const x = floats(train), F = train.features, n = train.count;
  const shift: number[] = [], scale: number[] = [];
  for (let j = 0; j < F; j++) {
    if (method === 'standardize') {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += x[i * F + j]!;
      const mean = sum / n;
      let ss = 0;
      for (let i = 0; i < n; i++) ss += (x[i * F + j]! - mean) ** 2;
      const std = Math.sqrt(ss / n);
      shift.push(mean); scale.push(std > 0 ? std : 1);
    } else {
      let lo = Infinity, hi = -Infinity;
      for (let i = 0; i < n; i++) { const v = x[i * F + j]!; if (v < lo) lo = v; if (v > hi) hi = v; }
      shift.push(lo); scale.push(hi > lo ? hi - lo : 1);
    }
  }
  return { method, shift, scale };
}

/** The dataset with (x - shift) / scale applied to every feature (a new array; the input is not changed). */
export function applyNormalize(data: DatasetTensors, stats: NormalizeStats, source: string): DatasetTensors {
  if (stats.shift.length !== data.features) {
    throw new DataError(source, `${source}: the saved normalisation has ${stats.shift.length} features, the data has ${data.features}`);
  }
  const x = floats(data), F = data.features, out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (x[i]! - stats.shift[i % F]!) / stats.scale[i % F]!;
  return { ...data, images: new Uint8Array(out.buffer) };
}
