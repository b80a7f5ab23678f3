// Elementwise kernels: ReLU, ReLU backward, dropout (forward and backward
// are the same function of the counter), transpose. Pointers are byte offsets
// into linear memory; n counts f32 values.
import { mix32, mix32x4 } from './rng';
import { keepPositive } from './simd';

/** Y = max(X, 0); NaN and -0 give +0 as the reference's `X > 0 ? X : 0`. */
export function relu(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    v128.store(y + o, keepPositive(v, v));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    store<f32>(y + o, v > 0 ? v : 0);
  }
}

/** dX = dY where Y > 0, else 0. */
export function reluBackward(dy: usize, yv: usize, dx: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, keepPositive(v128.load(dy + o), v128.load(yv + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(yv + o) > 0 ? load<f32>(dy + o) : 0);
  }
}

/**
 * Inverted dropout: element i is kept iff (hashAt(key, i) >>> 8) >= threshold
 * (threshold = dropoutThreshold(rate), at most 2^24), kept values times `scale`.
 */
export function dropout(x: usize, y: usize, n: i32, key: u32, threshold: i32, scale: f32): void {
  dropoutFrom(x, y, n, key, threshold, scale, 0);
}

/** dropout of elements i0 … i0+n−1 (x and y point at element i0; i0 a multiple of 4): a thread's share. */
export function dropoutFrom(x: usize, y: usize, n: i32, key: u32, threshold: i32, scale: f32, i0: i32): void {
  const vkey = i32x4.splat(<i32>key);
  const vthr = i32x4.splat(threshold);
  const vscale = f32x4.splat(scale);
  const four = i32x4.splat(4);
  let idx = i32x4.add(i32x4(0, 1, 2, 3), i32x4.splat(i0));
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const h = mix32x4(v128.xor(idx, vkey));
    const keep = i32x4.ge_s(i32x4.shr_u(h, 8), vthr);
    v128.store(y + o, v128.and(f32x4.mul(v128.load(x + o), vscale), keep));
    idx = i32x4.add(idx, four);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const h = mix32(key ^ <u32>(i0 + i));
    store<f32>(y + o, <i32>(h >> 8) >= threshold ? load<f32>(x + o) * scale : 0);
  }
}

/** The keep mask as bytes (1 kept, 0 dropped), for tests. */
export function dropoutMask(out: usize, n: i32, key: u32, threshold: i32): void {
  for (let i = 0; i < n; i++) store<u8>(out + <usize>i, <i32>(mix32(key ^ <u32>i) >> 8) >= threshold ? 1 : 0);
}

/** WT[N×K] = transpose of W[K×N]. 4×4 SIMD blocks, scalar edges. */
export function transpose(w: usize, wt: usize, K: i32, N: i32): void {
  transposeRows(w, wt, K, N, 0, K);
}

/** The rows k0 … k1−1 of W (k0 a multiple of 4) into WT: a thread's share of transpose. */
export function transposeRows(w: usize, wt: usize, K: i32, N: i32, k0: i32, k1: i32): void {
  const ks = <usize>K << 2, ns = <usize>N << 2;
  let k = k0;
  for (; k + 4 <= k1; k += 4) {
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const src = w + <usize>k * ns + (<usize>j << 2);
      const r0 = v128.load(src), r1 = v128.load(src + ns), r2 = v128.load(src + 2 * ns), r3 = v128.load(src + 3 * ns);
      const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5); // a0 b0 a1 b1
      const t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5); // c0 d0 c1 d1
      const t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7); // a2 b2 a3 b3
      const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7); // c2 d2 c3 d3
      const dst = wt + <usize>j * ks + (<usize>k << 2);
      v128.store(dst, i64x2.shuffle(t0, t1, 0, 2));
      v128.store(dst + ks, i64x2.shuffle(t0, t1, 1, 3));
      v128.store(dst + 2 * ks, i64x2.shuffle(t2, t3, 0, 2));
      v128.store(dst + 3 * ks, i64x2.shuffle(t2, t3, 1, 3));
    }
    for (; j < N; j++) {
      for (let kk = k; kk < k + 4; kk++) store<f32>(wt + <usize>j * ks + (<usize>kk << 2), load<f32>(w + <usize>kk * ns + (<usize>j << 2)));
    }
  }
  for (; k < k1; k++) {
    for (let j = 0; j < N; j++) store<f32>(wt + <usize>j * ks + (<usize>k << 2), load<f32>(w + <usize>k * ns + (<usize>j << 2)));
  }
}
