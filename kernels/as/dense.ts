// The matmuls. One register-blocked kernel computes
//   C[r, c] = init[c] + sum_t A(r, t) · B[t, c]      (t ascending, as the reference)
// for r < M, c < N, t < T, where A(r, t) is the f32 at a + r·ars + t·ats
// (any strides: X row-major for the forward pass, Xᵀ read in place for dW)
// and B's row t starts at b + t·bs (columns contiguous). The micro-tile is
// 4 rows × 8 columns: 8 f32x4 accumulators, 2 vector loads of B and 4
// broadcast loads of A per t, a plain (not unrolled) inner loop so V8 keeps
// everything in its ~15 vector registers. Edges: 4×4, 1×8, 1×4 tiles, then
// scalar columns.
//
// Epilogues: EPI_NONE, EPI_RELU (max(·,0) with NaN/-0 -> +0), EPI_MASK
// (keep where mask[r, c] > 0: the fused ReLU backward of dX).
import { madd, keepPositive } from './simd';

// Sparse A: the MNIST input is ~80% zeros. With `sparse` set, each 4-row
// block of A first lists (branch-free) the t where any of its 4 values is
// non-zero, and the tiles run over that list only. Skipped terms are exact
// zeros, so the sum is unchanged (the reference skips zero inputs too).
// IDX is a variable, not a constant, so that each thread of the threads
// build points it at its own scratch (kernels/as/threads.ts).
export const IDX_CAP = 16384;
let IDX: usize = memory.data(IDX_CAP * 4, 16);

/** Points the sparse index list at `p` (IDX_CAP·4 bytes; one per thread). */
export function setDenseScratch(p: usize): void {
  IDX = p;
}

export const EPI_NONE = 0;
export const EPI_RELU = 1;
export const EPI_MASK = 2;

// @ts-ignore: decorator
@inline function epi4(v: v128, epi: i32, mp: usize): v128 {
  if (epi == EPI_RELU) return keepPositive(v, v);
  if (epi == EPI_MASK) return keepPositive(v, v128.load(mp));
  return v;
}

// @ts-ignore: decorator
@inline function epi1(v: f32, epi: i32, mp: usize): f32 {
  if (epi == EPI_RELU) return v > 0 ? v : 0;
  if (epi == EPI_MASK) return load<f32>(mp) > 0 ? v : 0;
  return v;
}

function tile4x8(a: usize, ars: usize, ats: usize, b: usize, bs: usize, T: i32, c: usize, cs: usize, init: usize, epi: i32, m: usize, ms: usize): void {
  let i0 = f32x4.splat(0), i1 = i0;
  if (init) { i0 = v128.load(init); i1 = v128.load(init, 16); }
  let c00 = i0, c01 = i1, c10 = i0, c11 = i1, c20 = i0, c21 = i1, c30 = i0, c31 = i1;
  let a0 = a, a1 = a + ars, a2 = a + 2 * ars, a3 = a + 3 * ars;
  for (let t = 0; t < T; t++) {
    const w0 = v128.load(b), w1 = v128.load(b, 16);
    let x = v128.load32_splat(a0);
    c00 = madd(x, w0, c00); c01 = madd(x, w1, c01);
    x = v128.load32_splat(a1);
    c10 = madd(x, w0, c10); c11 = madd(x, w1, c11);
    x = v128.load32_splat(a2);
    c20 = madd(x, w0, c20); c21 = madd(x, w1, c21);
    x = v128.load32_splat(a3);
    c30 = madd(x, w0, c30); c31 = madd(x, w1, c31);
    a0 += ats; a1 += ats; a2 += ats; a3 += ats; b += bs;
  }
  v128.store(c, epi4(c00, epi, m)); v128.store(c, epi4(c01, epi, m + 16), 16); c += cs; m += ms;
  v128.store(c, epi4(c10, epi, m)); v128.store(c, epi4(c11, epi, m + 16), 16); c += cs; m += ms;
  v128.store(c, epi4(c20, epi, m)); v128.store(c, epi4(c21, epi, m + 16), 16); c += cs; m += ms;
  v128.store(c, epi4(c30, epi, m)); v128.store(c, epi4(c31, epi, m + 16), 16);
}

function tile4x4(a: usize, ars: usize, ats: usize, b: usize, bs: usize, T: i32, c: usize, cs: usize, init: usize, epi: i32, m: usize, ms: usize): void {
  let i0 = f32x4.splat(0);
  if (init) i0 = v128.load(init);
  let c0 = i0, c1 = i0, c2 = i0, c3 = i0;
  let a0 = a, a1 = a + ars, a2 = a + 2 * ars, a3 = a + 3 * ars;
  for (let t = 0; t < T; t++) {
    const w0 = v128.load(b);
    c0 = madd(v128.load32_splat(a0), w0, c0);
    c1 = madd(v128.load32_splat(a1), w0, c1);
    c2 = madd(v128.load32_splat(a2), w0, c2);
    c3 = madd(v128.load32_splat(a3), w0, c3);
    a0 += ats; a1 += ats; a2 += ats; a3 += ats; b += bs;
  }
  v128.store(c, epi4(c0, epi, m)); c += cs; m += ms;
  v128.store(c, epi4(c1, epi, m)); c += cs; m += ms;
  v128.store(c, epi4(c2, epi, m)); c += cs; m += ms;
  v128.store(c, epi4(c3, epi, m));
}

function tile4x8s(a: usize, ars: usize, ats: usize, idx: usize, cnt: i32, b: usize, bs: usize, c: usize, cs: usize, init: usize, epi: i32, m: usize, ms: usize): void {
  let i0 = f32x4.splat(0), i1 = i0;
  if (init) { i0 = v128.load(init); i1 = v128.load(init, 16); }
  let c00 = i0, c01 = i1, c10 = i0, c11 = i1, c20 = i0, c21 = i1, c30 = i0, c31 = i1;
  const a1 = a + ars, a2 = a + 2 * ars, a3 = a + 3 * ars;
  const end = idx + (<usize>cnt << 2);
  for (let q = idx; q < end; q += 4) {
    const t = <usize>load<u32>(q);
    const bp = b + t * bs, ap = t * ats;
    const w0 = v128.load(bp), w1 = v128.load(bp, 16);
    let x = v128.load32_splat(a + ap);
    c00 = madd(x, w0, c00); c01 = madd(x, w1, c01);
    x = v128.load32_splat(a1 + ap);
    c10 = madd(x, w0, c10); c11 = madd(x, w1, c11);
    x = v128.load32_splat(a2 + ap);
    c20 = madd(x, w0, c20); c21 = madd(x, w1, c21);
    x = v128.load32_splat(a3 + ap);
    c30 = madd(x, w0, c30); c31 = madd(x, w1, c31);
  }
  v128.store(c, epi4(c00, epi, m)); v128.store(c, epi4(c01, epi, m + 16), 16); c += cs; m += ms;
  v128.store(c, epi4(c10, epi, m)); v128.store(c, epi4(c11, epi, m + 16), 16); c += cs; m += ms;
  v128.store(c, epi4(c20, epi, m)); v128.store(c, epi4(c21, epi, m + 16), 16); c += cs; m += ms;
  v128.store(c, epi4(c30, epi, m)); v128.store(c, epi4(c31, epi, m + 16), 16);
}

function tile4x4s(a: usize, ars: usize, ats: usize, idx: usize, cnt: i32, b: usize, bs: usize, c: usize, cs: usize, init: usize, epi: i32, m: usize, ms: usize): void {
  let i0 = f32x4.splat(0);
  if (init) i0 = v128.load(init);
  let c0 = i0, c1 = i0, c2 = i0, c3 = i0;
  const a1 = a + ars, a2 = a + 2 * ars, a3 = a + 3 * ars;
  const end = idx + (<usize>cnt << 2);
  for (let q = idx; q < end; q += 4) {
    const t = <usize>load<u32>(q);
    const ap = t * ats;
    const w0 = v128.load(b + t * bs);
    c0 = madd(v128.load32_splat(a + ap), w0, c0);
    c1 = madd(v128.load32_splat(a1 + ap), w0, c1);
    c2 = madd(v128.load32_splat(a2 + ap), w0, c2);
    c3 = madd(v128.load32_splat(a3 + ap), w0, c3);
  }
  v128.store(c, epi4(c0, epi, m)); c += cs; m += ms;
  v128.store(c, epi4(c1, epi, m)); c += cs; m += ms;
  v128.store(c, epi4(c2, epi, m)); c += cs; m += ms;
  v128.store(c, epi4(c3, epi, m));
}

/** Lists at IDX the t < T where any of A(r..r+3, t) is non-zero (bitwise: -0 counts as non-zero). Returns the count. */
function nonZeroRows4(a: usize, ars: usize, ats: usize, T: i32): i32 {
  let cnt = 0;
  if (ars == 4) {
    for (let t = 0; t < T; t++) {
      store<i32>(IDX + (<usize>cnt << 2), t);
      cnt += i32(v128.any_true(v128.load(a)));
      a += ats;
    }
  } else {
    const a1 = a + ars, a2 = a + 2 * ars, a3 = a + 3 * ars;
    for (let t = 0; t < T; t++) {
      const o = <usize>t * ats;
      store<i32>(IDX + (<usize>cnt << 2), t);
      cnt += i32((load<i32>(a + o) | load<i32>(a1 + o) | load<i32>(a2 + o) | load<i32>(a3 + o)) != 0);
    }
  }
  return cnt;
}

function tile1x8(a: usize, ats: usize, b: usize, bs: usize, T: i32, c: usize, init: usize, epi: i32, m: usize): void {
  let c0 = f32x4.splat(0), c1 = c0;
  if (init) { c0 = v128.load(init); c1 = v128.load(init, 16); }
  for (let t = 0; t < T; t++) {
    const x = v128.load32_splat(a);
    c0 = madd(x, v128.load(b), c0);
    c1 = madd(x, v128.load(b, 16), c1);
    a += ats; b += bs;
  }
  v128.store(c, epi4(c0, epi, m));
  v128.store(c, epi4(c1, epi, m + 16), 16);
}

function tile1x4(a: usize, ats: usize, b: usize, bs: usize, T: i32, c: usize, init: usize, epi: i32, m: usize): void {
  let c0 = f32x4.splat(0);
  if (init) c0 = v128.load(init);
  for (let t = 0; t < T; t++) {
    c0 = madd(v128.load32_splat(a), v128.load(b), c0);
    a += ats; b += bs;
  }
  v128.store(c, epi4(c0, epi, m));
}

function col1(a: usize, ats: usize, b: usize, bs: usize, T: i32, c: usize, init: usize, epi: i32, m: usize): void {
  let s: f32 = init ? load<f32>(init) : 0;
  for (let t = 0; t < T; t++) {
    s += load<f32>(a) * load<f32>(b);
    a += ats; b += bs;
  }
  store<f32>(c, epi1(s, epi, m));
}

/**
 * C = init + A·B with the epilogue; see the file comment. `init` (a row of N
 * f32, e.g. the bias) may be 0 for zeros; `m`/`ms` are the mask and its row
 * stride for EPI_MASK. All strides in bytes.
 */
export function gemm(
  a: usize, ars: usize, ats: usize, b: usize, bs: usize, c: usize, cs: usize,
  M: i32, N: i32, T: i32, init: usize, epi: i32, m: usize, ms: usize, sparse: i32,
): void {
  const n8 = N & ~7, n4 = N & ~3;
  if (T > IDX_CAP) sparse = 0;
  let r = 0;
  for (; r + 4 <= M; r += 4) {
    const ar = a + <usize>r * ars, cr = c + <usize>r * cs, mr = m + <usize>r * ms;
    let j = 0;
    if (sparse) {
      const cnt = nonZeroRows4(ar, ars, ats, T);
      for (; j < n8; j += 8) {
        const o = <usize>j << 2;
        tile4x8s(ar, ars, ats, IDX, cnt, b + o, bs, cr + o, cs, init ? init + o : 0, epi, mr + o, ms);
      }
      for (; j < n4; j += 4) {
        const o = <usize>j << 2;
        tile4x4s(ar, ars, ats, IDX, cnt, b + o, bs, cr + o, cs, init ? init + o : 0, epi, mr + o, ms);
      }
    }
    for (; j < n8; j += 8) {
      const o = <usize>j << 2;
      tile4x8(ar, ars, ats, b + o, bs, T, cr + o, cs, init ? init + o : 0, epi, mr + o, ms);
    }
    for (; j < n4; j += 4) {
      const o = <usize>j << 2;
      tile4x4(ar, ars, ats, b + o, bs, T, cr + o, cs, init ? init + o : 0, epi, mr + o, ms);
    }
    for (; j < N; j++) {
      const o = <usize>j << 2;
      for (let rr = 0; rr < 4; rr++) {
        const q = <usize>rr;
        col1(ar + q * ars, ats, b + o, bs, T, cr + q * cs + o, init ? init + o : 0, epi, mr + q * ms + o);
      }
    }
  }
  for (; r < M; r++) {
    const ar = a + <usize>r * ars, cr = c + <usize>r * cs, mr = m + <usize>r * ms;
    let j = 0;
    for (; j < n8; j += 8) {
      const o = <usize>j << 2;
      tile1x8(ar, ats, b + o, bs, T, cr + o, init ? init + o : 0, epi, mr + o);
    }
    for (; j < n4; j += 4) {
      const o = <usize>j << 2;
      tile1x4(ar, ats, b + o, bs, T, cr + o, init ? init + o : 0, epi, mr + o);
    }
    for (; j < N; j++) {
      const o = <usize>j << 2;
      col1(ar, ats, b + o, bs, T, cr + o, init ? init + o : 0, epi, mr + o);
    }
  }
}

/**
 * Y[M×N] = X[M×K]·W[K×N] + b, ReLU when relu != 0. b may be 0 (no bias).
 * sparse != 0: skip the zeros of X (worth it for pixel inputs).
 */
export function denseForward(x: usize, w: usize, bias: usize, y: usize, M: i32, K: i32, N: i32, relu: i32, sparse: i32): void {
  const ks = <usize>K << 2, ns = <usize>N << 2;
  gemm(x, ks, 4, w, ns, y, ns, M, N, K, bias, relu ? EPI_RELU : EPI_NONE, 0, 0, sparse);
}

/**
 * dW[K×N] = Xᵀ·dY (X is [M×K], read transposed in place); db = column sums
 * of dY (db may be 0). sparse != 0: skip the zeros of X.
 */
export function denseBackwardWeights(x: usize, dy: usize, dw: usize, db: usize, M: i32, K: i32, N: i32, sparse: i32): void {
  const ks = <usize>K << 2, ns = <usize>N << 2;
  gemm(x, 4, ks, dy, ns, dw, ns, K, N, M, 0, EPI_NONE, 0, 0, sparse);
  if (db) columnSums(dy, db, M, N);
}

/**
 * dX[M×K] = dY[M×N]·Wᵀ computed as dY·WT with WT = the transposed copy of
 * W ([N×K], kept by the caller). reluOut (may be 0): dX is 0 where reluOut <= 0.
 */
export function denseBackwardInput(dy: usize, wt: usize, dx: usize, reluOut: usize, M: i32, K: i32, N: i32): void {
  const ks = <usize>K << 2, ns = <usize>N << 2;
  gemm(dy, ns, 4, wt, ks, dx, ks, M, K, N, 0, reluOut ? EPI_MASK : EPI_NONE, reluOut, ks, 0);
}

/** out[N] = sum over rows of Y[M×N], rows ascending. */
export function columnSums(y: usize, out: usize, M: i32, N: i32): void {
  columnSumsStrided(y, out, M, N, <usize>N << 2);
}

/**
 * out[N] = sum over the M rows (ns bytes apart) of N columns of y, rows
 * ascending: every column sums the same way in the vector and scalar paths,
 * so any split of the columns gives the same bits. With add, the sums start
 * from out's values: calls over consecutive row ranges give one call's bits.
 */
export function columnSumsStrided(y: usize, out: usize, M: i32, N: i32, ns: usize, add: bool = false): void {
  let j = 0;
  // 32 columns a pass read each 128-byte row once (a conv's dy over 32 channels): 8-column passes
  // each stream every row's cache lines again from L2 once the rows outgrow L1.
  for (; j + 32 <= N; j += 32) {
    const o = <usize>j << 2, q = out + o;
    const z = f32x4.splat(0);
    let s0 = add ? v128.load(q) : z, s1 = add ? v128.load(q, 16) : z, s2 = add ? v128.load(q, 32) : z, s3 = add ? v128.load(q, 48) : z;
    let s4 = add ? v128.load(q, 64) : z, s5 = add ? v128.load(q, 80) : z, s6 = add ? v128.load(q, 96) : z, s7 = add ? v128.load(q, 112) : z;
    let p = y + o;
    for (let r = 0; r < M; r++) {
      s0 = f32x4.add(s0, v128.load(p)); s1 = f32x4.add(s1, v128.load(p, 16));
      s2 = f32x4.add(s2, v128.load(p, 32)); s3 = f32x4.add(s3, v128.load(p, 48));
      s4 = f32x4.add(s4, v128.load(p, 64)); s5 = f32x4.add(s5, v128.load(p, 80));
      s6 = f32x4.add(s6, v128.load(p, 96)); s7 = f32x4.add(s7, v128.load(p, 112));
      p += ns;
    }
    v128.store(q, s0); v128.store(q, s1, 16); v128.store(q, s2, 32); v128.store(q, s3, 48);
    v128.store(q, s4, 64); v128.store(q, s5, 80); v128.store(q, s6, 96); v128.store(q, s7, 112);
  }
  for (; j + 8 <= N; j += 8) {
    const o = <usize>j << 2;
    let s0 = add ? v128.load(out + o) : f32x4.splat(0), s1 = add ? v128.load(out + o, 16) : s0;
    let p = y + o;
    for (let r = 0; r < M; r++) {
      s0 = f32x4.add(s0, v128.load(p));
      s1 = f32x4.add(s1, v128.load(p, 16));
      p += ns;
    }
    v128.store(out + o, s0);
    v128.store(out + o, s1, 16);
  }
  for (; j + 4 <= N; j += 4) {
    const o = <usize>j << 2;
    let s0 = add ? v128.load(out + o) : f32x4.splat(0);
    let p = y + o;
    for (let r = 0; r < M; r++) { s0 = f32x4.add(s0, v128.load(p)); p += ns; }
    v128.store(out + o, s0);
  }
  for (; j < N; j++) {
    const o = <usize>j << 2;
    let s: f32 = add ? load<f32>(out + o) : 0;
    let p = y + o;
    for (let r = 0; r < M; r++) { s += load<f32>(p); p += ns; }
    store<f32>(out + o, s);
  }
}
