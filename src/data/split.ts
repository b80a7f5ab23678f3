// Keras's validation_split: the last fraction of the examples, taken before
// any shuffling, is held out (keras/src/trainers/data_adapters/
// data_adapter_utils.py train_validation_split: split_at =
// floor(count · (1 − split))). Views, no copies. Browser-safe.

import { DataError } from './errors.js';
import { featureBytes, type DatasetTensors } from './types.js';

/** The examples [from, to) of a dataset, as views of its arrays (dtype and shape kept). */
export function sliceExamples(data: DatasetTensors, from: number, to: number): DatasetTensors {
  return {
    ...data,
    images: data.images.subarray(featureBytes(data, from), featureBytes(data, to)),
    ...(data.targets && data.targetWidth ? { targets: data.targets.subarray(from * data.targetWidth, to * data.targetWidth), targetWidth: data.targetWidth } : {}),
    labels: data.labels.subarray(from, to),
    count: to - from,
  };
}

/**
 * The training examples [0, split_at) and the validation examples
 * [split_at, count). Throws, in words, when either part would be empty.
 */
export function splitValidation(data: DatasetTensors, fraction: number): { train: DatasetTensors; validation: DatasetTensors } {
  if (!(fraction > 0 && fraction < 1)) throw new Error(`validation_split must be > 0 and < 1 to split, got ${fraction}`);
  const splitAt = Math.floor(data.count * (1 - fraction));
  if (splitAt === 0 || splitAt === data.count) {
    throw new DataError('validation_split', `${data.count} training examples are too few to hold out validation_split ${fraction}: it leaves ${splitAt} to train on and ${data.count - splitAt} to validate`);
  }
  return { train: sliceExamples(data, 0, splitAt), validation: sliceExamples(data, splitAt, data.count) };
}
