// SIMD helpers shared by the kernels. `madd` is a*b+c: a fused multiply-add
// (f32x4.relaxed_madd) in the relaxed-SIMD build, a multiply then an add in
// the plain build. ASC_FEATURE_RELAXED_SIMD is a compile-time constant, so
// each build contains only one of the two.

// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Lanes of `c` where `mask` > 0, else +0 (NaN and -0 in `mask` count as not > 0). */
// @ts-ignore: decorator
@inline export function keepPositive(c: v128, mask: v128): v128 {
  return v128.and(c, f32x4.gt(mask, f32x4.splat(0)));
}
