// Ceiling probes for bench/wasm-kernels.ts: the machine's roofline as this
// engine runs WebAssembly, measured with the same instructions the kernels use.
import { madd } from './simd';

/**
 * iters × 12 independent a·b+c chains of f32x4 (96 flops per iteration):
 * the multiply-add ceiling of one core (fused in the relaxed build).
 * Returns a lane so the work cannot be optimised away.
 */
export function peakMadd(iters: i32): f32 {
  const a = f32x4.splat(0.999), b = f32x4.splat(0.0001);
  let c0 = f32x4.splat(1), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
  for (let i = 0; i < iters; i++) {
    c0 = madd(c0, a, b); c1 = madd(c1, a, b); c2 = madd(c2, a, b); c3 = madd(c3, a, b);
    c4 = madd(c4, a, b); c5 = madd(c5, a, b); c6 = madd(c6, a, b); c7 = madd(c7, a, b);
    c8 = madd(c8, a, b); c9 = madd(c9, a, b); c10 = madd(c10, a, b); c11 = madd(c11, a, b);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)), f32x4.add(f32x4.add(c8, c9), f32x4.add(c10, c11))));
  return f32x4.extract_lane(s, 0);
}

/** z = x + y over n f32 (n a multiple of 16): 12 bytes moved per element, the bandwidth probe. */
export function streamAdd(x: usize, y: usize, z: usize, n: i32): void {
  const end = x + (<usize>n << 2);
  while (x < end) {
    v128.store(z, f32x4.add(v128.load(x), v128.load(y)));
    v128.store(z, f32x4.add(v128.load(x, 16), v128.load(y, 16)), 16);
    v128.store(z, f32x4.add(v128.load(x, 32), v128.load(y, 32)), 32);
    v128.store(z, f32x4.add(v128.load(x, 48), v128.load(y, 48)), 48);
    x += 64; y += 64; z += 64;
  }
}
