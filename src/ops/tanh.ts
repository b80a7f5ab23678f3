// tanh: y = tanh(x); dx = dy·(1 − y²) (from y: no exp).

import { activationOps, type ActivationFn } from './activation.js';

export const TANH: ActivationFn = {
  id: 2,
  code: 23,
  wasmFns: ['tanh', 'tanhBackward'],
  hasAlpha: false,
  f: (x) => Math.tanh(x),
  df: (_x, y) => 1 - y * y,
  formula: 'tanh(x)',
  derivative: '(1 − y²)',
  flops: [6, 3],
};

export const tanhOps = activationOps('tanh', TANH);
