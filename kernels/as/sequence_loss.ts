// Per-position sparse cross-entropy (src/ops/sequence_xent.ts), in f64 like
// the reference: logits [rows·T, C] f32, class ids as f32 in targets
// [rows·T]. Adds Σ loss / T to f64 at metrics+0, the correct positions to
// metrics+8 and rows to metrics+16; dl (may be 0): (softmax − onehot)/(rows·T).

import { rowArgmax, rowExpSum } from './softmax_row';

export function sequenceXent(logits: usize, targets: usize, dl: usize, rows: i32, T: i32, C: i32, metrics: usize): void {
  const n = rows * T;
  const inv = 1.0 / <f64>n;
  let lossSum = 0.0, correct = 0.0;
  const cs = <usize>C << 2;
  for (let i = 0; i < n; i++) {
    const o = logits + <usize>i * cs;
    const arg = rowArgmax(o, C);
    const mx = <f64>load<f32>(o + (<usize>arg << 2));
    const sum = rowExpSum(o, C, mx);
    let label = <i32>load<f32>(targets + (<usize>i << 2));
    label = label < 0 ? 0 : label >= C ? C - 1 : label;
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
  store<f64>(metrics, load<f64>(metrics) + lossSum / <f64>T);
  store<f64>(metrics, load<f64>(metrics, 8) + correct, 8);
  store<f64>(metrics, load<f64>(metrics, 16) + <f64>rows, 16);
}

/**
 * sequenceXent's per-position terms for the examples [r0, r1) (the threads
 * build): the loss of position i into lossOut[i] and 1/0 for a correct
 * argmax into correctOut[i], dl as sequenceXent with invN = 1/(rows·T); the
 * reduction record sums them in order and divides the loss by T.
 */
export function sequenceXentRows(logits: usize, targets: usize, dl: usize, r0: i32, r1: i32, T: i32, C: i32, n: f64, lossOut: usize, correctOut: usize): void {
  const inv = 1.0 / n;
  const cs = <usize>C << 2;
  for (let i = r0 * T; i < r1 * T; i++) {
    const o = logits + <usize>i * cs;
    const arg = rowArgmax(o, C);
    const mx = <f64>load<f32>(o + (<usize>arg << 2));
    const sum = rowExpSum(o, C, mx);
    let label = <i32>load<f32>(targets + (<usize>i << 2));
    label = label < 0 ? 0 : label >= C ? C - 1 : label;
    store<f64>(lossOut + (<usize>i << 3), Math.log(sum) + mx - <f64>load<f32>(o + (<usize>label << 2)));
    store<f64>(correctOut + (<usize>i << 3), arg == label ? 1.0 : 0.0);
    if (dl) {
      const d = dl + <usize>i * cs;
      for (let c = 0; c < C; c++) {
        const p = Math.exp(<f64>load<f32>(o + (<usize>c << 2)) - mx) / sum;
        store<f32>(d + (<usize>c << 2), <f32>((p - (c == label ? 1.0 : 0.0)) * inv));
      }
    }
  }
}
