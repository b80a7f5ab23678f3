// silu (Keras `silu`; the layer name `swish` is an alias of it):
//   y = x·σ(x),  dx = dy·σ(x)·(1 + x·(1 − σ(x))),  σ = sigmoid.

import { activationOps, type ActivationFn } from './activation.js';
import { sigmoid } from './math.js';

export const SILU: ActivationFn = {
  id: 7,
  code: 33,
  wasmFns: ['silu', 'siluBackward'],
  hasAlpha: false,
  f: (x) => x * sigmoid(x),
  df(x) {
    const s = sigmoid(x);
    return s * (1 + x * (1 - s));
  },
  formula: 'x/(1 + exp(−x))',
  derivative: 'σ(x)·(1 + x·(1 − σ(x))), σ(x) = 1/(1 + exp(−x))',
  flops: [5, 8],
};

export const siluOps = activationOps('silu', SILU);
