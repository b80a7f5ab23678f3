// What a loaded dataset holds, checked across its splits: every split has
// the training set's example shape and dtype, and every label is below the
// number of classes (declared, or the largest label + 1). Browser-safe.

import { DataError, formatCount } from './errors.js';
import { checkLabels, classCount } from './idx.js';
import type { DataFacts, DatasetTensors, FeatureDtype } from './types.js';

export type Split = 'train' | 'test' | 'validation';
type Sets = { train: DatasetTensors; test: DatasetTensors; validation?: DatasetTensors };

const shapeOf = (d: DatasetTensors) => d.shape ?? [d.features];
const fmt = (shape: number[]) => `[${shape.join(', ')}]`;

/** What a split holds, as far as the splits must agree: one example's shape, how it is stored, how many. */
export interface SplitSummary { shape: number[]; dtype: FeatureDtype; count: number }

/** Every split has examples, and the test and validation examples have the training examples' shape and dtype; else a DataError naming the file. */
export function checkSplits(sets: { train: SplitSummary; test?: SplitSummary; validation?: SplitSummary }, names: Record<Split, string>): void {
  const train = sets.train;
  if (train.count === 0) throw new DataError(names.train, `${names.train}: the training set has no examples`);
  for (const split of ['test', 'validation'] as const) {
    const d = sets[split];
    if (!d) continue;
    if (fmt(d.shape) !== fmt(train.shape) || d.dtype !== train.dtype) {
      throw new DataError(names[split], `${names[split]}: the ${split} examples have shape ${fmt(d.shape)} (${d.dtype}), but the training examples in ${names.train} have shape ${fmt(train.shape)} (${train.dtype})`);
    }
    if (d.count === 0) throw new DataError(names[split], `${names[split]}: the ${split} set has no examples`);
  }
}

/**
 * The facts of a dataset's splits; `names` names each split's file in
 * errors, `source` the data in shape errors of the model (a file, or a
 * dataset name). Throws a DataError for a split whose examples differ from
 * the training set's, or a label out of range.
 */
export function factsOf(sets: Sets, o: { source: string; names: Record<Split, string>; labelNames?: Record<Split, string>; classes?: number; classNames?: string[] }): DataFacts {
  const train = sets.train;
  const summary = (d: DatasetTensors): SplitSummary => ({ shape: shapeOf(d), dtype: d.dtype ?? 'uint8', count: d.count });
  const others = (['test', 'validation'] as const).filter((k) => sets[k] !== undefined);
  checkSplits({ train: summary(train), ...Object.fromEntries(others.map((k) => [k, summary(sets[k]!)])) }, o.names);
  const classes = o.classes ?? classCount(train.labels, ...others.map((k) => sets[k]!.labels));
  if (classes > 256) throw new DataError(o.names.train, `${o.names.train}: ${formatCount(classes)} classes; at most 256 are supported`);
  const labelFile = o.labelNames ?? o.names;
  checkLabels(train.labels.subarray(0, train.count), classes, labelFile.train);
  for (const split of others) checkLabels(sets[split]!.labels.subarray(0, sets[split]!.count), classes, labelFile[split]);
  return {
    source: o.source, inputShape: shapeOf(train), classes, dtype: train.dtype ?? 'uint8',
    train: train.count, test: sets.test.count, ...(o.classNames ? { classNames: o.classNames } : {}),
  };
}

/**
 * What the examples of a dataset are called in messages ("30 test rows"):
 * windows of a text corpus, rows of a CSV file, images where each example
 * has two or more axes (IDX/npz pictures, image folders), else examples.
 */
export function exampleNoun(format: string | undefined, inputShape: readonly number[] | undefined, count = 2): string {
  const plural = format === 'text' ? 'windows'
    : format === 'csv' ? 'rows'
    : format === 'image_folder' || (inputShape?.length ?? 0) >= 2 ? 'images'
    : 'examples';
  return count === 1 ? plural.slice(0, -1) : plural;
}
