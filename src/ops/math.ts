// Float64 special functions for the activation references (src/ops/*.ts):
// the oracle every f32 kernel is compared with, so they are far more
// accurate than the kernels (kernels/as/math.ts, kernels/wgsl/prelude.wgsl).
//
// erf / erfc, measured against an independent high-precision erf
// (test/activations.test.ts):
//   |erf(x) − erf_true(x)| ≤ 1e-14 absolute for all x (≈ 5e-15 at |x| = 2.5);
//   erfc(x) relative error ≤ 1e-13 for x ≥ 2.5 (where it is computed
//   directly, not as 1 − erf, so the Gaussian tail of GELU keeps its digits).
// Method: |x| < 2.5 the Maclaurin series (≤ 40 terms; the alternating terms
// peak near 10 at x = 2.5, costing one digit); |x| ≥ 2.5 the continued
// fraction of erfc, 40 levels evaluated bottom-up (converged to 3e-16 there).
// Browser-safe: no imports.

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const INV_SQRT_PI = 0.5641895835477563;
export const SQRT1_2 = Math.SQRT1_2;
/** 1/√(2π), the standard normal density at 0. */
export const INV_SQRT_2PI = 0.3989422804014327;
/** √(2/π), the constant of GELU's tanh approximation. */
export const SQRT_2_OVER_PI = 0.7978845608028654;
/** Where erf switches from the series to the continued fraction of erfc. */
const SERIES_MAX = 2.5;

/** erf(x) = 2/√π Σ (−1)ⁿ x²ⁿ⁺¹ / (n! (2n+1)) for |x| < 2.5. */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x, sum = x;
  for (let n = 1; n < 60; n++) {
    term *= -x2 / n;
    const t = term / (2 * n + 1);
    sum += t;
    if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * sum;
}

/** erfc(x) for x ≥ 2.5: e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))). */
function erfcFraction(x: number): number {
  let f = x;
  for (let n = 40; n >= 1; n--) f = x + n / 2 / f;
  return (Math.exp(-x * x) * INV_SQRT_PI) / f;
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  const a = Math.abs(x);
  if (a < SERIES_MAX) return erfSeries(x);
  const r = 1 - erfcFraction(a);
  return x < 0 ? -r : r;
}

/** erfc(x) = 1 − erf(x), with full relative accuracy in the upper tail. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x >= SERIES_MAX) return erfcFraction(x);
  if (x <= -SERIES_MAX) return 2 - erfcFraction(-x);
  return 1 - erfSeries(x);
}

/** Φ(x), the standard normal CDF, = ½·erfc(−x/√2): accurate in the lower tail too. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x * SQRT1_2);
}

/** 1/(1 + e^(−x)), never overflowing: the exponent is always ≤ 0. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log(1 + e^x) = max(x, 0) + log1p(e^(−|x|)): no overflow, no loss for x ≪ 0. */
export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}
