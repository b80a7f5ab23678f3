// Multi-head attention, composed from three primitives (the same ones the
// WGSL kernels implement). Layout per example r (all f32, row-major):
//   a, b, src, out   [T, H·D]   head h uses columns h·D … h·D+D−1
//   p, ds, scores    [H, T, T]
// Primitives:
//   qk(a, b, out, rows, T, H, D, softmax, causal, scale)
//       out[h,i,j] = scale·a_i·b_j; with softmax: masked (j > i when causal)
//       to probability 0, then max-subtracted softmax over j
//   mix(p, src, out, rows, T, H, D, transpose, scale)
//       out_x = scale·Σ_y p[h,x,y]·src_y   (transpose: p[h,y,x])
//   dsoft(dp, p, ds, rows, T, H)
//       ds[h,i,j] = p[h,i,j]·(dp[h,i,j] − Σ_j' p[h,i,j']·dp[h,i,j'])
// The op entry points (attentionScores, …) are what the plan records call.
// Sums run in index order; the d loops use f32x4 when D is a multiple of 4.

import { exp4 } from './math';

/** Scalar exp through the vector one (lane 0), as the activation kernels do. */
@inline function expf(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}

@inline function rowDot(a: usize, b: usize, D: i32): f32 {
  let acc = f32x4.splat(0);
  let d = 0;
  for (; d + 4 <= D; d += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(a + (<usize>d << 2)), v128.load(b + (<usize>d << 2))));
  let s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (; d < D; d++) s += load<f32>(a + (<usize>d << 2)) * load<f32>(b + (<usize>d << 2));
  return s;
}

export function qk(a: usize, b: usize, out: usize, rows: i32, T: i32, H: i32, D: i32, softmax: i32, causal: i32, scale: f32): void {
  const W = H * D;
  for (let r = 0; r < rows; r++) for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) {
    const row = out + (<usize>(((r * H + h) * T + i) * T) << 2);
    const ai = a + (<usize>((r * T + i) * W + h * D) << 2);
    const last = softmax && causal ? i : T - 1;
    let max: f32 = -Infinity;
    for (let j = 0; j <= last; j++) {
      const s: f32 = rowDot(ai, b + (<usize>((r * T + j) * W + h * D) << 2), D) * scale;
      store<f32>(row + (<usize>j << 2), s);
      if (s > max) max = s;
    }
    if (!softmax) continue;
    let sum: f32 = 0;
    for (let j = 0; j <= last; j++) {
      const e = expf(load<f32>(row + (<usize>j << 2)) - max);
      store<f32>(row + (<usize>j << 2), e);
      sum += e;
    }
    const inv: f32 = 1 / sum;
    for (let j = 0; j < T; j++) store<f32>(row + (<usize>j << 2), j <= last ? load<f32>(row + (<usize>j << 2)) * inv : 0);
  }
}

export function mix(p: usize, src: usize, out: usize, rows: i32, T: i32, H: i32, D: i32, transpose: i32, scale: f32): void {
  const W = H * D;
  for (let r = 0; r < rows; r++) for (let h = 0; h < H; h++) for (let x = 0; x < T; x++) {
    const o = out + (<usize>((r * T + x) * W + h * D) << 2);
    let d = 0;
    for (; d + 4 <= D; d += 4) {
      let acc = f32x4.splat(0);
      for (let y = 0; y < T; y++) {
        const w = load<f32>(p + (<usize>(((r * H + h) * T + (transpose ? y : x)) * T + (transpose ? x : y)) << 2));
        acc = f32x4.add(acc, f32x4.mul(f32x4.splat(w), v128.load(src + (<usize>((r * T + y) * W + h * D + d) << 2))));
      }
      v128.store(o + (<usize>d << 2), f32x4.mul(acc, f32x4.splat(scale)));
    }
    for (; d < D; d++) {
      let acc: f32 = 0;
      for (let y = 0; y < T; y++) {
        const w = load<f32>(p + (<usize>(((r * H + h) * T + (transpose ? y : x)) * T + (transpose ? x : y)) << 2));
        acc += w * load<f32>(src + (<usize>((r * T + y) * W + h * D + d) << 2));
      }
      store<f32>(o + (<usize>d << 2), acc * scale);
    }
  }
}

export function dsoft(dp: usize, p: usize, ds: usize, rows: i32, T: i32, H: i32): void {
  const n = rows * H * T;
  for (let i = 0; i < n; i++) {
    const o = <usize>(i * T) << 2;
    let dot: f32 = 0;
    for (let j = 0; j < T; j++) dot += load<f32>(p + o + (<usize>j << 2)) * load<f32>(dp + o + (<usize>j << 2));
    for (let j = 0; j < T; j++) {
      const at = o + (<usize>j << 2);
      store<f32>(ds + at, load<f32>(p + at) * (load<f32>(dp + at) - dot));
    }
  }
}

export function attentionScores(q: usize, k: usize, probs: usize, rows: i32, T: i32, H: i32, D: i32, causal: i32, scale: f32): void {
  qk(q, k, probs, rows, T, H, D, 1, causal, scale);
}

export function attentionScoresBackward(dprobs: usize, probs: usize, q: usize, k: usize, dq: usize, dk: usize, ds: usize, rows: i32, T: i32, H: i32, D: i32, scale: f32): void {
  dsoft(dprobs, probs, ds, rows, T, H);
  mix(ds, k, dq, rows, T, H, D, 0, scale);
  mix(ds, q, dk, rows, T, H, D, 1, scale);
}

export function attentionValues(probs: usize, v: usize, o: usize, rows: i32, T: i32, H: i32, D: i32): void {
  mix(probs, v, o, rows, T, H, D, 0, 1);
}

export function attentionValuesBackward(dout: usize, probs: usize, v: usize, dprobs: usize, dv: usize, rows: i32, T: i32, H: i32, D: i32): void {
  qk(dout, v, dprobs, rows, T, H, D, 0, 0, 1);
  mix(probs, dout, dv, rows, T, H, D, 1, 1);
}
