// Checks of the `optimizer:` settings that the schema cannot state: a
// piecewise_constant_decay's values have one entry more than its
// boundaries, which increase; at most one kind of gradient clipping; and a
// learning-rate schedule cannot be changed by reduce_lr_on_plateau (Keras
// refuses to set a scheduled rate too). Browser-safe.

import type { ConfigErrorCode } from './errors.js';
import type { Target } from './locate.js';
import type { ModelSpec } from './types.js';

type At = (path: (string | number)[], target: Target, code: ConfigErrorCode, message: string, hint?: string) => void;

const CLIPS = ['clipnorm', 'clipvalue', 'global_clipnorm'] as const;

export function checkOptimizer(spec: ModelSpec, at: At): void {
  const o = spec.optimizer;
  const lr = o.learning_rate;
  if (typeof lr === 'object' && lr.type === 'piecewise_constant_decay') {
    const { boundaries: b, values: v } = lr;
    if (v.length !== b.length + 1) {
      at(['optimizer', 'learning_rate', 'values'], 'value', 'schema',
        `piecewise_constant_decay: values has ${v.length} entries and boundaries ${b.length}; values needs one more than boundaries (${b.length + 1})`,
        'values[0] applies up to boundaries[0], values[i] after boundaries[i-1], the last value after the last boundary');
    }
    const i = b.findIndex((x, k) => k > 0 && x <= b[k - 1]!);
    if (i > 0) at(['optimizer', 'learning_rate', 'boundaries', i], 'value', 'schema', `piecewise_constant_decay: boundaries must increase, but boundaries[${i}] = ${b[i]} follows ${b[i - 1]}`);
  }
  const clips = CLIPS.filter((k) => o[k] !== undefined);
  if (clips.length > 1) {
    at(['optimizer', clips[1]!], 'key', 'schema', `only one of clipnorm, clipvalue and global_clipnorm can be set; found ${clips.join(' and ')}`);
  }
  if (typeof lr === 'object') {
    (spec.training.callbacks ?? []).forEach((cb, i) => {
      if (cb.type !== 'reduce_lr_on_plateau') return;
      at(['training', 'callbacks', i, 'type'], 'value', 'schema',
        `reduce_lr_on_plateau cannot change the learning rate: optimizer.learning_rate is a ${lr.type} schedule (Keras refuses to set a scheduled rate too)`,
        'give optimizer.learning_rate as a number, or drop this callback');
    });
  }
}
