// RMSprop (Keras 3): the mean square `rms` per parameter, plus `momentum`
// when momentum > 0 and the mean gradient `mg` when centered; one fused
// `rmsprop` op per parameter (src/ops/rmsprop.ts).

import type { RmspropSpec } from '../../config/types.js';
import type { RmspropOp } from '../../ops/rmsprop.js';
import { defineOptimizer } from './types.js';

export const rmspropLowering = defineOptimizer<RmspropSpec>({
  type: 'rmsprop',
  state: (spec) => ['rms', ...(spec.momentum > 0 ? ['momentum'] : []), ...(spec.centered ? ['mg'] : [])],
  update(spec, p): RmspropOp {
    const [v, ...rest] = p.state;
    const mom = spec.momentum > 0 ? rest.shift()! : null;
    const mg = spec.centered ? rest.shift()! : null;
    return { kind: 'rmsprop', layer: p.name, param: p.name, grad: p.grad, v: v!, mom, mg, size: p.size, rho: spec.rho, momentum: spec.momentum, epsilon: spec.epsilon };
  },
});
