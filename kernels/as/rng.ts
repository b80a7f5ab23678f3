// The counter RNG of src/runtime/rng.ts, bit for bit: u32 arithmetic,
// wrapping multiplies, logical shifts ("lowbias32" by C. Wellons).

// @ts-ignore: decorator
@inline export function mix32(x: u32): u32 {
  x ^= x >> 16;
  x *= 0x7feb352d;
  x ^= x >> 15;
  x *= 0x846ca68b;
  x ^= x >> 16;
  return x;
}

/** key(seed, stream, step) = mix32(mix32(mix32(seed ^ 0x9e3779b9) ^ stream) ^ step) */
export function rngKey(seed: u32, stream: u32, step: u32): u32 {
  return mix32(mix32(mix32(seed ^ 0x9e3779b9) ^ stream) ^ step);
}

export function hashAt(key: u32, index: u32): u32 {
  return mix32(key ^ index);
}

/** mix32 on four u32 lanes. */
// @ts-ignore: decorator
@inline export function mix32x4(x: v128): v128 {
  x = v128.xor(x, i32x4.shr_u(x, 16));
  x = i32x4.mul(x, i32x4.splat(0x7feb352d));
  x = v128.xor(x, i32x4.shr_u(x, 15));
  x = i32x4.mul(x, i32x4.splat(<i32>0x846ca68b));
  x = v128.xor(x, i32x4.shr_u(x, 16));
  return x;
}
