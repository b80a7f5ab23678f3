// Adam and AdamW (Keras): first and second moments `m`, `v` per parameter,
// and with amsgrad the running maximum `vhat`. Plain Adam is one fused
// `adam` op per parameter (src/ops/adam.ts); AdamW, and Adam with amsgrad,
// the fused `adamw` op (src/ops/adamw.ts; weight decay 0 for Adam).

import type { AdamSpec, AdamWSpec } from '../../config/types.js';
import type { AdamOp } from '../../ops/adam.js';
import type { AdamWOp } from '../../ops/adamw.js';
import { defineOptimizer, type ParamBuffers } from './types.js';

const states = (spec: AdamSpec | AdamWSpec) => (spec.amsgrad ? ['m', 'v', 'vhat'] : ['m', 'v']);

const adamwOf = (p: ParamBuffers, weightDecay: number, amsgrad: boolean): AdamWOp => ({
  kind: 'adamw', layer: p.name, param: p.name, grad: p.grad, m: p.state[0]!, v: p.state[1]!, vhat: amsgrad ? p.state[2]! : null, size: p.size, weightDecay,
});

export const adamLowering = defineOptimizer<AdamSpec>({
  type: 'adam',
  state: states,
  update: (spec, p): AdamOp | AdamWOp => (spec.amsgrad
    ? adamwOf(p, 0, true)
    : { kind: 'adam', layer: p.name, param: p.name, grad: p.grad, m: p.state[0]!, v: p.state[1]!, size: p.size }),
});

export const adamwLowering = defineOptimizer<AdamWSpec>({
  type: 'adamw',
  state: states,
  update: (spec, p) => adamwOf(p, spec.weight_decay, spec.amsgrad ?? false),
});
