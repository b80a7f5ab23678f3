// elu (Keras): y = x for x > 0, else alpha·(e^x − 1) (computed with expm1,
// so small negative x keeps its digits), alpha default 1.0; dx = dy for
// x > 0, else dy·alpha·e^x (from x, exact also where y ≈ −alpha).

import { activationOps, type ActivationFn } from './activation.js';

/** Keras's default alpha. */
export const ELU_DEFAULT_ALPHA = 1.0;

export const ELU: ActivationFn = {
  id: 4,
  code: 27,
  wasmFns: ['elu', 'eluBackward'],
  hasAlpha: true,
  f: (x, alpha) => (x > 0 ? x : alpha * Math.expm1(x)),
  df: (x, _y, alpha) => (x > 0 ? 1 : alpha * Math.exp(x)),
  formula: 'x > 0 ? x : ALPHA·(exp(x) − 1)',
  derivative: '(x > 0 ? 1 : ALPHA·exp(x))',
  flops: [3, 3],
  benchAlpha: ELU_DEFAULT_ALPHA,
};

export const eluOps = activationOps('elu', ELU);
