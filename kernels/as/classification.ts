// The classification losses besides softmax_xent (src/ops/categorical_crossentropy.ts,
// binary_crossentropy.ts) and the top-k metric (top_k_accuracy.ts), in f64
// like the references. Labels are i32 class ids per row. Metrics: f64 loss
// sum at metrics + 0, correct count at + 8, rows at + 16; metric k at + 24 + 8k.

import { rowArgmax, rowExpSum } from './softmax_row';

function addLossSums(metrics: usize, lossSum: f64, correct: f64, M: i32): void {
  store<f64>(metrics, load<f64>(metrics) + lossSum);
  store<f64>(metrics, load<f64>(metrics, 8) + correct, 8);
  store<f64>(metrics, load<f64>(metrics, 16) + <f64>M, 16);
}

/** Softmax cross-entropy against y′ = (1 − smoothing)·onehot + smoothing/C; dl (may be 0) = (softmax − y′) / gradScale. */
export function categoricalCrossentropy(logits: usize, labels: usize, dl: usize, M: i32, C: i32, smoothing: f32, gradScale: f64, metrics: usize): void {
  const inv = 1.0 / gradScale;
  const off = <f64>smoothing / <f64>C, on = 1.0 - <f64>smoothing + off;
  let lossSum = 0.0, correct = 0.0;
  const cs = <usize>C << 2;
  for (let i = 0; i < M; i++) {
    const o = logits + <usize>i * cs;
    const arg = rowArgmax(o, C);
    const mx = <f64>load<f32>(o + (<usize>arg << 2));
    const sum = rowExpSum(o, C, mx);
    const lse = Math.log(sum) + mx;
    const label = load<i32>(labels + (<usize>i << 2));
    for (let c = 0; c < C; c++) {
      const z = <f64>load<f32>(o + (<usize>c << 2));
      const y = c == label ? on : off;
      if (y != 0) lossSum += y * (lse - z);
      if (dl) store<f32>(dl + <usize>i * cs + (<usize>c << 2), <f32>((Math.exp(z - mx) / sum - y) * inv));
    }
    if (arg == label) correct += 1;
  }
  addLossSums(metrics, lossSum, correct, M);
}

/**
 * categoricalCrossentropy's terms for the rows [r0, r1) (the threads build):
 * its loss sum runs over rows and classes, so the term of (row i, class c)
 * goes to lossOut[i·C + c] (0 where the target is 0) and the correct flag
 * of row i to correctOut[i·C] (0 at the other classes); the reduction
 * record sums both in that order. dl as categoricalCrossentropy.
 */
export function categoricalCrossentropyTerms(logits: usize, labels: usize, dl: usize, r0: i32, r1: i32, C: i32, smoothing: f32, gradScale: f64, lossOut: usize, correctOut: usize): void {
  const inv = 1.0 / gradScale;
  const off = <f64>smoothing / <f64>C, on = 1.0 - <f64>smoothing + off;
  const cs = <usize>C << 2;
  for (let i = r0; i < r1; i++) {
    const o = logits + <usize>i * cs;
    const arg = rowArgmax(o, C);
    const mx = <f64>load<f32>(o + (<usize>arg << 2));
    const sum = rowExpSum(o, C, mx);
    const lse = Math.log(sum) + mx;
    const label = load<i32>(labels + (<usize>i << 2));
    const t = <usize>i * <usize>C;
    for (let c = 0; c < C; c++) {
      const z = <f64>load<f32>(o + (<usize>c << 2));
      const y = c == label ? on : off;
      store<f64>(lossOut + ((t + <usize>c) << 3), y != 0 ? y * (lse - z) : 0.0);
      store<f64>(correctOut + ((t + <usize>c) << 3), c == 0 && arg == label ? 1.0 : 0.0);
      if (dl) store<f32>(dl + <usize>i * cs + (<usize>c << 2), <f32>((Math.exp(z - mx) / sum - y) * inv));
    }
  }
}

const EPSILON: f64 = 1e-7;

/** Binary cross-entropy of one output per row against labels 0/1 (smoothed): from logits (stable) or clipped probabilities. */
export function binaryCrossentropy(z: usize, labels: usize, dz: usize, M: i32, fromLogits: i32, smoothing: f32, gradScale: f64, metrics: usize): void {
  const inv = 1.0 / gradScale, ls = <f64>smoothing;
  let lossSum = 0.0, correct = 0.0;
  for (let i = 0; i < M; i++) {
    const v = <f64>load<f32>(z + (<usize>i << 2));
    const label = load<i32>(labels + (<usize>i << 2));
    const y = <f64>label * (1.0 - ls) + 0.5 * ls;
    if (fromLogits) {
      lossSum += Math.max(v, 0) - v * y + Math.log1p(Math.exp(-Math.abs(v)));
      const s = v >= 0 ? 1.0 / (1.0 + Math.exp(-v)) : Math.exp(v) / (1.0 + Math.exp(v));
      if (dz) store<f32>(dz + (<usize>i << 2), <f32>((s - y) * inv));
      if ((v > 0 ? 1 : 0) == label) correct += 1;
    } else {
      const p = Math.min(Math.max(v, EPSILON), 1.0 - EPSILON);
      lossSum += -(y * Math.log(p) + (1.0 - y) * Math.log(1.0 - p));
      if (dz) store<f32>(dz + (<usize>i << 2), v >= EPSILON && v <= 1.0 - EPSILON ? <f32>((p - y) / (p * (1.0 - p)) * inv) : 0);
      if ((v > 0.5 ? 1 : 0) == label) correct += 1;
    }
  }
  addLossSums(metrics, lossSum, correct, M);
}

/** predict: σ(z) from logits, the probability as it is otherwise. */
export function binaryOutputs(z: usize, out: usize, M: i32, fromLogits: i32): void {
  for (let i = 0; i < M; i++) {
    const v = <f64>load<f32>(z + (<usize>i << 2));
    store<f32>(out + (<usize>i << 2), fromLogits ? <f32>(v >= 0 ? 1.0 / (1.0 + Math.exp(-v)) : Math.exp(v) / (1.0 + Math.exp(v))) : <f32>v);
  }
}

/** Adds to metric k the count of rows with fewer than k logits strictly above the label's. */
export function topKCount(logits: usize, labels: usize, M: i32, C: i32, k: i32, metrics: usize, accumulator: i32): void {
  const cs = <usize>C << 2;
  let count = 0;
  for (let i = 0; i < M; i++) {
    const o = logits + <usize>i * cs;
    const zl = load<f32>(o + (<usize>load<i32>(labels + (<usize>i << 2)) << 2));
    let above = 0;
    for (let c = 0; c < C; c++) if (load<f32>(o + (<usize>c << 2)) > zl) above++;
    if (above < k) count++;
  }
  const at = metrics + 24 + (<usize>accumulator << 3);
  store<f64>(at, load<f64>(at) + <f64>count);
}
