// categorical_crossentropy: one-hot labels built on the device from the
// batch's class ids, smoothed by label_smoothing, against the softmax of
// the logits: the fused categorical_crossentropy op (src/ops), which also
// counts argmax == label (accuracy).

import type { LossSpec } from '../../config/types.js';
import type { CategoricalCrossentropyOp } from '../../ops/categorical_crossentropy.js';
import type { LossLowering } from './types.js';

type Spec = Extract<LossSpec, { type: 'categorical_crossentropy' }>;

export const categoricalCrossentropy: LossLowering<Spec> = {
  targetWidth: () => 0,
  op: (spec, outputs, dOutputs, units): CategoricalCrossentropyOp => ({
    kind: 'categorical_crossentropy', layer: 'loss', logits: outputs, dlogits: dOutputs, classes: units, smoothing: spec.label_smoothing ?? 0,
  }),
  fused: () => ['accuracy'],
  prediction: () => 'softmax',
};
