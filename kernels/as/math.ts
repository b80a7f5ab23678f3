// f32x4 special functions for the activation kernels (kernels/as/activation.ts).
// Written once, in SIMD: a scalar element goes through the same code as a
// splat (lane 0), so a tail element gets exactly what it would get in the
// body. Polynomials use `madd` (fused in the relaxed build).
//
// Accuracy, bounded by test/activations.test.ts against float64 (measured
// values in parentheses):
//   exp4     relative ≤ 2.5e-7 (1.1e-7) for x in [−86.9, 88.37]; 0 below −86.9
//            (results under 1.8e-38 flush to zero), +∞ above 88.37 (true
//            overflow is at 88.72). Cephes expf: Cody–Waite reduction
//            x = n·ln2 + r, |r| ≤ ln2/2, degree-7 polynomial, 2ⁿ added to the
//            exponent bits.
//   expm1_4  relative ≤ 5e-7 (1.4e-7 for x ≤ 0): Taylor to x⁸ for |x| < 0.5,
//            exp4 − 1 beyond. tanh4, from it: relative ≤ 5e-7 (2.0e-7).
//   erfc4    (z ≥ 0) relative ≤ 2e-6 for z ≤ 4 (1.6e-6), ≤ 1e-5 for z ≤ 9
//            (7.6e-6): Numerical Recipes' erfcc, a Chebyshev fit of
//            erfc·e^(z²) with fractional error 1.2e-7 in exact arithmetic; the
//            rest is the f32 rounding of its exponent −z² − …, z²·2⁻²⁴.
//   erf4     absolute ≤ 3e-7 (2.0e-7), relative ≤ 5e-7 (3.8e-7): x·(Maclaurin
//            to x¹³) for |x| < 0.5, 1 − erfc4(|x|) with the sign beyond.
//   log1p01  (u in [0, 1]) 2·atanh(u/(2+u)) series, no cancellation for tiny
//            u; with exp4 in softplus(x ≤ 0) relative ≤ 5e-7.

import { madd } from './simd';

const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375; // 9 significant bits: n·LN2_HI is exact for |n| ≤ 128
const LN2_LO: f32 = -2.12194440e-4;
// n = round(x·log2e) must stay in [−125, 127] so 2ⁿ·p (p in [0.7, 1.42]) is a normal float.
const EXP_HI: f32 = 88.37626;
const EXP_LO: f32 = -86.9;
const SIGN: i32 = 0x80000000;
const SHIFTER: f32 = 12582912; // 1.5·2²³
const SHIFTER_BITS: i32 = 0x4b400000;

// @ts-ignore: decorator
@inline function k(c: f32): v128 {
  return f32x4.splat(c);
}

/** e^x, lane-wise. NaN gives NaN. */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  // pmin/pmax are single x86 instructions (min/max with wasm's NaN rules are not); a NaN x stays NaN.
  const xc = f32x4.pmin(f32x4.pmax(x, k(EXP_LO)), k(EXP_HI));
  // Round x·log2e to an integer by adding 1.5·2²³: its low mantissa bits are then n (in two's
  // complement), which avoids nearest and trunc_sat (long sequences on x86).
  const t = madd(xc, k(LOG2E), k(SHIFTER));
  const n = f32x4.sub(t, k(SHIFTER));
  const r = madd(n, k(-LN2_LO), madd(n, k(-LN2_HI), xc));
  let p = madd(k(1.9875691500e-4), r, k(1.3981999507e-3));
  p = madd(p, r, k(8.3334519073e-3));
  p = madd(p, r, k(4.1665795894e-2));
  p = madd(p, r, k(1.6666665459e-1));
  p = madd(p, r, k(5.0000001201e-1));
  p = madd(p, f32x4.mul(r, r), f32x4.add(r, k(1)));
  const scaled = i32x4.add(p, i32x4.shl(i32x4.sub(t, i32x4.splat(SHIFTER_BITS)), 23));
  const under = v128.bitselect(k(0), scaled, f32x4.lt(x, k(EXP_LO)));
  return v128.bitselect(k(Infinity), under, f32x4.gt(x, k(EXP_HI)));
}

/** e^x − 1 without the cancellation of exp4(x) − 1 near 0. */
// @ts-ignore: decorator
@inline export function expm1_4(x: v128): v128 {
  let p = madd(k(1.0 / 40320), x, k(1.0 / 5040));
  p = madd(p, x, k(1.0 / 720));
  p = madd(p, x, k(1.0 / 120));
  p = madd(p, x, k(1.0 / 24));
  p = madd(p, x, k(1.0 / 6));
  p = madd(p, x, k(0.5));
  const small = madd(p, f32x4.mul(x, x), x);
  return v128.bitselect(small, f32x4.sub(exp4(x), k(1)), f32x4.lt(f32x4.abs(x), k(0.5)));
}

/** 1/(1 + e^(−x)); e^(−x) = +∞ gives 0. */
// @ts-ignore: decorator
@inline export function sigmoid4(x: v128): v128 {
  return f32x4.div(k(1), f32x4.add(k(1), exp4(f32x4.neg(x))));
}

/** tanh(|x|) = −m/(2 + m) with m = expm1(−2|x|), then x's sign: accurate near 0, exactly ±1 far out. */
// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  const m = expm1_4(f32x4.mul(f32x4.abs(x), k(-2)));
  const t = f32x4.abs(f32x4.div(m, f32x4.add(k(2), m)));
  return v128.or(t, v128.and(x, i32x4.splat(SIGN)));
}

/** log(1 + u) for u in [0, 1]: 2s·(1 + s²/3 + … + s¹⁴/15), s = u/(2+u) ≤ 1/3, so no cancellation for tiny u. */
// @ts-ignore: decorator
@inline export function log1p01_4(u: v128): v128 {
  const s = f32x4.div(u, f32x4.add(k(2), u));
  const s2 = f32x4.mul(s, s);
  let p = madd(k(1.0 / 15), s2, k(1.0 / 13));
  p = madd(p, s2, k(1.0 / 11));
  p = madd(p, s2, k(1.0 / 9));
  p = madd(p, s2, k(1.0 / 7));
  p = madd(p, s2, k(1.0 / 5));
  p = madd(p, s2, k(1.0 / 3));
  p = madd(p, s2, k(1));
  return f32x4.mul(f32x4.add(s, s), p);
}

/** erfc(z) for z ≥ 0 (Numerical Recipes' erfcc). */
// @ts-ignore: decorator
@inline export function erfc4(z: v128): v128 {
  const t = f32x4.div(k(1), madd(k(0.5), z, k(1)));
  let p = madd(k(0.17087277), t, k(-0.82215223));
  p = madd(p, t, k(1.48851587));
  p = madd(p, t, k(-1.13520398));
  p = madd(p, t, k(0.27886807));
  p = madd(p, t, k(-0.18628806));
  p = madd(p, t, k(0.09678418));
  p = madd(p, t, k(0.37409196));
  p = madd(p, t, k(1.00002368));
  p = madd(p, t, k(-1.26551223));
  return f32x4.mul(t, exp4(f32x4.sub(p, f32x4.mul(z, z))));
}

/** erf(x). */
// @ts-ignore: decorator
@inline export function erf4(x: v128): v128 {
  const a = f32x4.abs(x);
  const x2 = f32x4.mul(x, x);
  // 2/√π · (x − x³/3 + x⁵/10 − x⁷/42 + x⁹/216 − x¹¹/1320 + x¹³/9360)
  let p = madd(k(1.0 / 9360), x2, k(-1.0 / 1320));
  p = madd(p, x2, k(1.0 / 216));
  p = madd(p, x2, k(-1.0 / 42));
  p = madd(p, x2, k(1.0 / 10));
  p = madd(p, x2, k(-1.0 / 3));
  p = madd(p, x2, k(1));
  const small = f32x4.mul(f32x4.mul(x, p), k(1.1283791670955126));
  const large = v128.or(f32x4.sub(k(1), erfc4(a)), v128.and(x, i32x4.splat(SIGN)));
  return v128.bitselect(small, large, f32x4.lt(a, k(0.5)));
}

/** Φ(x), the standard normal CDF: ½·erfc(|x|/√2) below 0, 1 − that above (no cancellation in the lower tail). */
// @ts-ignore: decorator
@inline export function phi4(x: v128): v128 {
  const c = f32x4.mul(k(0.5), erfc4(f32x4.mul(f32x4.abs(x), k(0.70710678118654752))));
  return v128.bitselect(c, f32x4.sub(k(1), c), f32x4.lt(x, k(0)));
}

/** The standard normal density e^(−x²/2)/√(2π). */
// @ts-ignore: decorator
@inline export function normalPdf4(x: v128): v128 {
  return f32x4.mul(exp4(f32x4.mul(f32x4.mul(x, x), k(-0.5))), k(0.3989422804014327));
}
