// The dataset types every part of Tessera shares: what loaders produce and
// backends keep resident. Browser-safe.

import type { DataMetadata } from './preprocess.js';

/** How one feature is stored: a uint8 pixel (scaled by 1/255 when gathered) or a float32 value (copied). */
export type FeatureDtype = 'uint8' | 'float32';

/**
 * A labelled set as bytes: `count` examples of `features` values each.
 * `images` holds the features row-major, one byte per feature for uint8 and
 * four little-endian bytes per feature for float32 (`dtype`; absent means
 * uint8), so every backend uploads and keeps both kinds the same way.
 */
export interface DatasetTensors {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  features: number;
  /**
   * Float targets for regression losses (and one-hot labels): `targetWidth`
   * floats per example, example-major, `count × targetWidth` in all. Absent
   * for class-id datasets, whose `labels` the classification losses read;
   * a dataset with targets still carries `labels` (zeros where it has no
   * classes).
   */
  targets?: Float32Array;
  targetWidth?: number;
  /** Absent: uint8. */
  dtype?: FeatureDtype;
  /** The shape of one example (product = features), when the source says it. */
  shape?: number[];
}

/** Bytes per stored feature of a dataset. */
export function bytesPerFeature(dtype: FeatureDtype | undefined): number {
  return dtype === 'float32' ? 4 : 1;
}

/** The bytes `count` examples of a dataset take. */
export function featureBytes(data: Pick<DatasetTensors, 'features' | 'dtype'>, count: number): number {
  return count * data.features * bytesPerFeature(data.dtype);
}

/**
 * What a model needs to know about its data before any weights exist: the
 * shape of one example, the number of classes and how features are stored.
 * Named datasets know it statically; files tell it by their headers (or by
 * being read). `source` names the file in errors.
 */
export interface DataFacts {
  source: string;
  inputShape: number[];
  classes: number;
  dtype: FeatureDtype;
  /** Class names in id order (string CSV labels, image folder names). */
  classNames?: string[];
  /** Example counts, when known. */
  train?: number;
  test?: number;
  /** Float targets per example (regression data, DatasetTensors.targets), when the data has them: the regression losses check it against the last layer. */
  targetWidth?: number;
}

/** A loaded dataset: the splits, a one-line description of where they came from, and what they hold. */
export interface LoadedData {
  train: DatasetTensors;
  test: DatasetTensors;
  validation?: DatasetTensors;
  source: string;
  facts: DataFacts;
  /** What to save with the weights so eval and predict see the data as training did (normalisation, class names). */
  metadata?: DataMetadata;
}
