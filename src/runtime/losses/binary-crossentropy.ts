// binary_crossentropy: one output unit against labels 0/1 (the batch's
// class ids): the fused binary_crossentropy op (src/ops), from logits
// (stable) or from a sigmoid unit's probabilities (Keras's clip). Its
// correct count is binary accuracy, which 'accuracy' means with this loss
// (as Keras resolves it).

import type { LossSpec } from '../../config/types.js';
import type { BinaryCrossentropyOp } from '../../ops/binary_crossentropy.js';
import type { LossLowering } from './types.js';

type Spec = Extract<LossSpec, { type: 'binary_crossentropy' }>;

export const binaryCrossentropy: LossLowering<Spec> = {
  targetWidth: () => 0,
  op: (spec, outputs, dOutputs): BinaryCrossentropyOp => ({
    kind: 'binary_crossentropy', layer: 'loss', outputs, dOutputs, fromLogits: spec.from_logits ?? false, smoothing: spec.label_smoothing ?? 0,
  }),
  fused: () => ['accuracy', 'binary_accuracy'],
  prediction: (spec) => (spec.from_logits ? 'sigmoid' : 'identity'),
};
