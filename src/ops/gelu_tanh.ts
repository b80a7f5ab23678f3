// gelu_tanh (Keras `gelu` with approximate: true):
//   y = ½·x·(1 + tanh(u)),  u = √(2/π)·(x + 0.044715·x³)
//   dx = dy·(½·(1 + t) + ½·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²)),  t = tanh(u)
// The kernels use the identity ½·(1 + tanh(u)) = sigmoid(2u), which does not
// cancel for x ≪ 0.

import { activationOps, type ActivationFn } from './activation.js';
import { SQRT_2_OVER_PI } from './math.js';

const C3 = 0.044715;

export const GELU_TANH: ActivationFn = {
  id: 6,
  code: 31,
  wasmFns: ['geluTanh', 'geluTanhBackward'],
  hasAlpha: false,
  f: (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + C3 * x * x * x))),
  df(x) {
    const t = Math.tanh(SQRT_2_OVER_PI * (x + C3 * x * x * x));
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * C3 * x * x);
  },
  formula: '½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))',
  derivative: "gelu_tanh'(x)",
  flops: [9, 14],
};

export const geluTanhOps = activationOps('gelu_tanh', GELU_TANH);
