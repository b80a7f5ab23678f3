// sigmoid: y = 1/(1 + e^(−x)); dx = dy·y·(1 − y) (from y: no exp).

import { activationOps, type ActivationFn } from './activation.js';
import { sigmoid } from './math.js';

export const SIGMOID: ActivationFn = {
  id: 1,
  code: 21,
  wasmFns: ['sigmoid', 'sigmoidBackward'],
  hasAlpha: false,
  f: (x) => sigmoid(x),
  df: (_x, y) => y * (1 - y),
  formula: '1/(1 + exp(−x))',
  derivative: 'y·(1 − y)',
  flops: [4, 3],
};

export const sigmoidOps = activationOps('sigmoid', SIGMOID);
