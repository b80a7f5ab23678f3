// Fused softmax cross-entropy and softmax, in f64 like the reference
// (10 classes × a batch of rows: scalar work, a few hundred exps per step).

import { rowArgmax, rowExpSum } from './softmax_row';

/**
 * M rows of C logits, i32 labels. Adds the summed loss to f64 at metrics+0,
 * the correct count to f64 at metrics+8 and M to f64 at metrics+16.
 * dl (may be 0): dLogits = (softmax - onehot) / gradScale.
 */
export function softmaxXent(logits: usize, labels: usize, dl: usize, M: i32, C: i32, gradScale: f64, metrics: usize): void {
  const inv = 1.0 / gradScale;
  let lossSum = 0.0, correct = 0.0;
  const cs = <usize>C << 2;
  for (let i = 0; i < M; i++) {
    const o = logits + <usize>i * cs;
    const arg = rowArgmax(o, C);
    const mx = <f64>load<f32>(o + (<usize>arg << 2));
    const sum = rowExpSum(o, C, mx);
    const label = load<i32>(labels + (<usize>i << 2));
    lossSum += Math.log(sum) + mx - <f64>load<f32>(o + (<usize>label << 2));
    if (arg == label) correct += 1;
    if (dl) {
      const d = dl + <usize>i * cs;
      for (let c = 0; c < C; c++) {
        const p = Math.exp(<f64>load<f32>(o + (<usize>c << 2)) - mx) / sum;
        store<f32>(d + (<usize>c << 2), <f32>((p - (c == label ? 1.0 : 0.0)) * inv));
      }
    }
  }
  store<f64>(metrics, load<f64>(metrics) + lossSum);
  store<f64>(metrics, load<f64>(metrics, 8) + correct, 8);
  store<f64>(metrics, load<f64>(metrics, 16) + <f64>M, 16);
}

/** Row-wise softmax probabilities of M rows of C logits into out. */
export function softmax(logits: usize, out: usize, M: i32, C: i32): void {
  const cs = <usize>C << 2;
  for (let i = 0; i < M; i++) {
    const o = logits + <usize>i * cs, d = out + <usize>i * cs;
    let max = -Infinity;
    for (let c = 0; c < C; c++) max = Math.max(max, <f64>load<f32>(o + (<usize>c << 2)));
    const sum = rowExpSum(o, C, max);
    for (let c = 0; c < C; c++) store<f32>(d + (<usize>c << 2), <f32>(Math.exp(<f64>load<f32>(o + (<usize>c << 2)) - max) / sum));
  }
}
