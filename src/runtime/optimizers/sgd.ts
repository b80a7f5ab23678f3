// SGD (Keras 3): a momentum buffer per parameter when momentum > 0, one
// fused `sgd` op per parameter (src/ops/sgd.ts).

import type { SgdSpec } from '../../config/types.js';
import type { SgdOp } from '../../ops/sgd.js';
import { defineOptimizer } from './types.js';

export const sgdLowering = defineOptimizer<SgdSpec>({
  type: 'sgd',
  state: (spec) => (spec.momentum > 0 ? ['momentum'] : []),
  update: (spec, p): SgdOp => ({
    kind: 'sgd', layer: p.name, param: p.name, grad: p.grad, m: spec.momentum > 0 ? p.state[0]! : null, size: p.size,
    momentum: spec.momentum, nesterov: spec.nesterov,
  }),
});
