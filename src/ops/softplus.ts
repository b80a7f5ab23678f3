// softplus (Keras): y = log(1 + e^x), computed as max(x, 0) + log1p(e^(−|x|))
// so it neither overflows for x ≫ 0 nor rounds to 0 for x ≪ 0;
// dx = dy·σ(x).

import { activationOps, type ActivationFn } from './activation.js';
import { sigmoid, softplus } from './math.js';

export const SOFTPLUS: ActivationFn = {
  id: 8,
  code: 35,
  wasmFns: ['softplus', 'softplusBackward'],
  hasAlpha: false,
  f: (x) => softplus(x),
  df: (x) => sigmoid(x),
  formula: 'log(1 + exp(x))',
  derivative: '1/(1 + exp(−x))',
  flops: [7, 4],
};

export const softplusOps = activationOps('softplus', SOFTPLUS);
