// Checks that tie the loss to the last layer and to the data, and each
// metric to the loss: what the schema cannot state. Problems point at the
// loss's (or the metric's) line, with the shapes. Browser-safe.
//
//   sparse_categorical_crossentropy, categorical_crossentropy: one linear
//     unit per class of the dataset (reported at the last layer's units,
//     where the fix goes), class ids from the dataset
//   binary_crossentropy: one unit, a dataset of two classes (labels 0/1);
//     the last activation linear with from_logits: true, sigmoid without
//   mean_squared_error, mean_absolute_error, huber: float targets of the
//     last layer's width
//   metrics: accuracy and binary_accuracy need a classification loss (the
//     loss op counts them), top_k_categorical_accuracy a softmax one, mse and
//     mae a regression loss (they compare outputs with the float targets)

import type { ShapeIssue } from './shapes.js';
import type { LossSpec, MetricSpec, ModelSpec } from './types.js';

/**
 * What the data gives, as far as is known before reading it, for messages
 * ("mnist has 10 classes", "the data in iris.csv holds 3 classes"): class
 * ids of `classes` classes, and/or float targets of `targetWidth`.
 */
export interface LossData { name: string; verb: 'has' | 'holds'; classes?: number; targetWidth?: number }

const SOFTMAX_LOSSES: readonly LossSpec['type'][] = ['sparse_categorical_crossentropy', 'categorical_crossentropy'];
const REGRESSION_LOSSES: readonly LossSpec['type'][] = ['mean_squared_error', 'mean_absolute_error', 'huber'];

export const isRegressionLoss = (t: LossSpec['type']) => REGRESSION_LOSSES.includes(t);

const metricName = (m: MetricSpec) => (typeof m === 'string' ? m : m.type);

/**
 * Whether the data gives what the loss reads: float targets of the last
 * layer's width for a regression loss, class ids for a classification one.
 * Run by validation (a model file names its data); compileGraph leaves it
 * to the backends, which refuse a dataset without the targets (src/runtime/targets.ts).
 */
export function checkLossData(spec: ModelSpec, units: number, data: LossData, errors: ShapeIssue[]): void {
  const loss = spec.loss;
  const at = ['loss', 'type'];
  if (isRegressionLoss(loss.type)) {
    if (data.targetWidth === undefined) {
      errors.push({ path: at, message: `${loss.type} compares the outputs with float targets, but ${data.name} gives class ids${data.classes !== undefined ? ` (${data.classes} classes)` : ''} and no targets; the last layer has ${units} units`, hint: 'use sparse_categorical_crossentropy for class ids, or a dataset with regression targets' });
    } else if (data.targetWidth !== units) {
      errors.push({ path: at, message: `${loss.type} compares the outputs with the targets element by element, but the last layer has ${units} units and ${data.name} gives ${data.targetWidth} targets per example`, hint: `use units: ${data.targetWidth} on the last layer` });
    }
  } else if (loss.type === 'binary_crossentropy' && data.classes !== undefined && data.classes !== 2) {
    errors.push({ path: at, message: `binary_crossentropy reads labels 0/1, but ${data.name} has ${data.classes} classes; the last layer has ${units} unit${units === 1 ? '' : 's'}`, hint: 'use sparse_categorical_crossentropy for more than two classes' });
  } else if (data.classes === undefined && data.targetWidth !== undefined) {
    errors.push({ path: at, message: `${loss.type} is a classification loss, but ${data.name} gives regression targets (${data.targetWidth} floats per example) and no class ids; the last layer has ${units} units`, hint: 'use a regression loss: mean_squared_error, mean_absolute_error or huber' });
  }
}

/** Problems of the loss against the last (dense) layer and the dataset's classes, and of each metric against the loss. */
export function checkLoss(spec: ModelSpec, last: { index: number; units: number; activation: string }, data: LossData, errors: ShapeIssue[], warnings: ShapeIssue[]): void {
  const loss = spec.loss;
  const at = ['loss', 'type'];
  // With binary_crossentropy the dataset's class count is checked with the data (checkLossData): two classes, labels 0/1.
  const units = last.units;
  const lastAt = (key: string) => ['layers', last.index, key];
  if (SOFTMAX_LOSSES.includes(loss.type)) {
    if (data.classes !== undefined && units !== data.classes) {
      errors.push({ path: lastAt('units'), message: `the last layer has ${units} units but ${data.name} ${data.verb} ${data.classes} classes`, hint: `use units: ${data.classes}` });
    }
    if (last.activation !== 'linear') {
      warnings.push({ path: lastAt('activation'), message: `the last layer has activation '${last.activation}', but the loss expects raw logits (from_logits: true)`, hint: 'use activation: linear on the last layer' });
    }
  } else if (loss.type === 'binary_crossentropy') {
    if (units !== 1) {
      errors.push({ path: at, message: `binary_crossentropy needs 1 output unit (the probability of label 1), but the last layer has ${units} units`, hint: 'end the model with a dense layer with units: 1' });
    }
    const want = loss.from_logits ? 'linear' : 'sigmoid';
    if (last.activation !== want) {
      warnings.push({
        path: lastAt('activation'),
        message: `the last layer has activation '${last.activation}', but binary_crossentropy with from_logits: ${loss.from_logits ? 'true' : 'false'} expects ${loss.from_logits ? 'raw logits' : 'probabilities'}`,
        hint: `use activation: ${want} on the last layer${loss.from_logits ? '' : ', or from_logits: true with a linear one (the stable form)'}`,
      });
    }
  }

  spec.metrics.forEach((m, i) => {
    const name = metricName(m);
    const path = ['metrics', i];
    const regression = isRegressionLoss(loss.type);
    if ((name === 'accuracy' || name === 'binary_accuracy') && regression) {
      errors.push({ path, message: `${name} counts correct classes, but ${loss.type} is a regression loss`, hint: 'use mse or mae' });
    } else if (name === 'binary_accuracy' && loss.type !== 'binary_crossentropy') {
      errors.push({ path, message: `binary_accuracy thresholds one probability at 0.5, but ${loss.type} has ${units} classes`, hint: 'use accuracy' });
    } else if (name === 'top_k_categorical_accuracy' && !SOFTMAX_LOSSES.includes(loss.type)) {
      errors.push({ path, message: `top_k_categorical_accuracy ranks class logits, but ${loss.type} is not a softmax cross-entropy`, hint: 'use it with sparse_categorical_crossentropy or categorical_crossentropy' });
    } else if ((name === 'mse' || name === 'mae') && !regression) {
      errors.push({ path, message: `${name} compares the outputs with float targets, which ${loss.type} does not read`, hint: 'use it with mean_squared_error, mean_absolute_error or huber' });
    }
  });
}
