// gelu (Keras `gelu`, approximate: false): the exact form
//   y = x·Φ(x) = ½·x·(1 + erf(x/√2)),   dx = dy·(Φ(x) + x·φ(x))
// with Φ the standard normal CDF and φ(x) = e^(−x²/2)/√(2π) its density.
// The kernels compute Φ from erfc, which keeps its relative accuracy in the
// lower tail where 1 + erf(x/√2) would cancel.

import { activationOps, type ActivationFn } from './activation.js';
import { INV_SQRT_2PI, normalCdf } from './math.js';

export const GELU: ActivationFn = {
  id: 5,
  code: 29,
  wasmFns: ['gelu', 'geluBackward'],
  hasAlpha: false,
  f: (x) => x * normalCdf(x),
  df: (x) => normalCdf(x) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x),
  formula: '½·x·(1 + erf(x/√2))',
  derivative: '(Φ(x) + x·exp(−x²/2)/√(2π)), Φ(x) = ½·(1 + erf(x/√2))',
  flops: [12, 16],
};

export const geluOps = activationOps('gelu', GELU);
