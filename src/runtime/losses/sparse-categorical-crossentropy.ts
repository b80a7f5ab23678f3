// sparse_categorical_crossentropy: class ids against softmax of the logits,
// the fused softmax_xent op (which also counts argmax == label: accuracy).

import type { LossSpec } from '../../config/types.js';
import type { SequenceXentOp } from '../../ops/sequence_xent.js';
import type { SoftmaxXentOp } from '../../ops/softmax_xent.js';
import type { LossLowering } from './types.js';

type Spec = Extract<LossSpec, { type: 'sparse_categorical_crossentropy' }>;

export const sparseCategoricalCrossentropy: LossLowering<Spec> = {
  targetWidth: () => 0,
  op: (_spec, outputs, dOutputs, units): SoftmaxXentOp => ({ kind: 'softmax_xent', layer: 'loss', logits: outputs, dlogits: dOutputs, classes: units }),
  fused: () => ['accuracy'],
  prediction: () => 'softmax',
  // A character model: the next character at every position (class ids in the float targets).
  sequenceOp: (outputs, dOutputs, positions, units): SequenceXentOp => ({ kind: 'sequence_xent', layer: 'loss', logits: outputs, dlogits: dOutputs, positions, classes: units }),
};
