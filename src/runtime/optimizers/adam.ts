// Adam (Keras): first and second moments `m`, `v` per parameter, one fused
// `adam` update op (src/ops/adam.ts) per parameter.

import type { AdamSpec } from '../../config/types.js';
import type { AdamOp } from '../../ops/adam.js';
import { defineOptimizer } from './types.js';

export const adamLowering = defineOptimizer<AdamSpec>({
  type: 'adam',
  state: () => ['m', 'v'],
  update: (_spec, p): AdamOp => ({ kind: 'adam', layer: p.name, param: p.name, grad: p.grad, m: p.state[0]!, v: p.state[1]!, size: p.size }),
});
