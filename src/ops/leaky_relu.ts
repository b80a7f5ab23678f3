// leaky_relu (Keras 3): y = x for x ≥ 0, else alpha·x, alpha = the layer's
// negative_slope (Keras default 0.2); dx = dy for x > 0, else alpha·dy.

import { activationOps, type ActivationFn } from './activation.js';

/** Keras 3's default negative_slope. */
export const LEAKY_RELU_DEFAULT_SLOPE = 0.2;

export const LEAKY_RELU: ActivationFn = {
  id: 3,
  code: 25,
  wasmFns: ['leakyRelu', 'leakyReluBackward'],
  hasAlpha: true,
  f: (x, alpha) => (x > 0 ? x : alpha * x),
  df: (x, _y, alpha) => (x > 0 ? 1 : alpha),
  formula: 'x > 0 ? x : ALPHA·x',
  derivative: '(x > 0 ? 1 : ALPHA)',
  flops: [2, 2],
  benchAlpha: LEAKY_RELU_DEFAULT_SLOPE,
};

export const leakyReluOps = activationOps('leaky_relu', LEAKY_RELU);
