// Checks of the `training:` and `dataset:` settings that the schema cannot
// state: a callback's `monitor` must name a quantity the epoch logs will
// hold (with a did-you-mean), val_ quantities need validation data, and
// validation data comes from one place only. Browser-safe.

import type { ConfigErrorCode } from './errors.js';
import type { Target } from './locate.js';
import { suggest } from './suggest.js';
import { filepathProblem } from './checkpoint-filepath.js';
import type { ModelSpec } from './types.js';

type At = (path: (string | number)[], target: Target, code: ConfigErrorCode, message: string, hint?: string) => void;

/** The names an epoch's logs hold: loss and each metric, then their val_ forms (Keras's log names). */
export function monitorNames(spec: Pick<ModelSpec, 'metrics'>): string[] {
  const train = ['loss', ...spec.metrics.map((m) => (typeof m === 'string' ? m : m.type))];
  return [...train, ...train.map((n) => `val_${n}`)];
}

/** Whether the spec asks for validation data (a split or separate files). */
export function hasValidation(spec: Pick<ModelSpec, 'training' | 'dataset'>): boolean {
  return (spec.training.validation_split ?? 0) > 0 || spec.dataset.validation_images !== undefined;
}

/** Reports each problem through `at` (a path into the document, so it has a line and column). */
export function checkTraining(spec: ModelSpec, at: At): void {
  const { dataset, training } = spec;
  if ((training.validation_split ?? 0) > 0 && (dataset.validation_images !== undefined || dataset.validation_labels !== undefined)) {
    at(['training', 'validation_split'], 'value', 'schema', 'validation_split and dataset.validation_images both give validation data',
      'keep one: validation_split holds out the end of the training set, validation_images/validation_labels name separate files');
  }
  if ((dataset.validation_images === undefined) !== (dataset.validation_labels === undefined)) {
    const [given, missing] = dataset.validation_images === undefined ? ['validation_labels', 'validation_images'] : ['validation_images', 'validation_labels'];
    at(['dataset', given], 'key', 'missing-key', `dataset.${given} is given but dataset.${missing} is not`, `add ${missing}: <path of an IDX file>`);
  }

  const names = monitorNames(spec);
  const validation = hasValidation(spec);
  (training.callbacks ?? []).forEach((cb, i) => {
    const path = ['training', 'callbacks', i, 'monitor'];
    if (cb.type === 'model_checkpoint') {
      const problem = filepathProblem(cb.filepath, names);
      if (problem) at(['training', 'callbacks', i, 'filepath'], 'value', 'schema', `model_checkpoint: ${problem}`);
      if (!cb.save_best_only) return; // the monitor is read only by save_best_only, as in Keras
    }
    if (!names.includes(cb.monitor)) {
      const near = suggest(cb.monitor, names);
      at(path, 'value', 'enum', `${cb.type}: unknown monitor '${cb.monitor}'; expected one of: ${names.join(', ')}${near ? `; did you mean '${near}'?` : ''}`);
    } else if (cb.monitor.startsWith('val_') && !validation) {
      at(path, 'entry', 'schema', `${cb.type} monitors '${cb.monitor}', but the model has no validation data`,
        `set training.validation_split (e.g. 0.1), or dataset.validation_images and validation_labels, or monitor '${cb.monitor.slice(4)}'`);
    }
  });
}
