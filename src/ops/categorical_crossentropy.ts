// categorical_crossentropy: softmax cross-entropy against one-hot labels
// built from the batch's class ids, with Keras's label_smoothing ε: the
// labels are y' = (1 − ε)·onehot + ε/C, and per row (max-subtracted)
//   loss = Σ_c y'_c (logsumexp(z) − z_c);  dLogits = (softmax(z) − y') / rows
// plus the correct count (first argmax = label: categorical accuracy). With
// ε = 0 it is sparse_categorical_crossentropy's softmax_xent. Loss sums and
// counts accumulate in the backend's metrics; without dlogits (evaluation) it
// only accumulates. The wasm call doubles as predict's softmax (gProbs).

import { LABELS_BUFFER } from './gather.js';
import { labelLossBench, labelLossCustom, labelLossWebgpu, rowSoftmaxStats } from './label-loss.js';
import { defineOp, f32Bits, present, type OpRecordBase } from './types.js';

export interface CategoricalCrossentropyOp extends OpRecordBase {
  kind: 'categorical_crossentropy'; logits: string; dlogits: string | null; classes: number; smoothing: number;
}

export function categoricalCrossentropy(
  logits: Float32Array, labels: ArrayLike<number>, dLogits: Float32Array | null,
  M: number, C: number, smoothing: number, gradScale: number,
): { lossSum: number; correct: number } {
  let lossSum = 0, correct = 0;
  const inv = 1 / gradScale, off = smoothing / C, on = 1 - smoothing + off;
  for (let i = 0; i < M; i++) {
    const o = i * C;
    const { max, arg, sum } = rowSoftmaxStats(logits, o, C);
    const lse = Math.log(sum) + max, label = labels[i]!;
    for (let c = 0; c < C; c++) {
      const y = c === label ? on : off;
      if (y !== 0) lossSum += y * (lse - logits[o + c]!);
      if (dLogits) dLogits[o + c] = (Math.exp(logits[o + c]! - max) / sum - y) * inv;
    }
    if (arg === label) correct++;
  }
  return { lossSum, correct };
}

export const categoricalCrossentropyOp = defineOp<CategoricalCrossentropyOp>({
  kind: 'categorical_crossentropy',
  summary: 'fused softmax, cross-entropy against smoothed one-hot labels, dLogits = (softmax − y′)/rows and correct count',
  buffers: (op) => ({ reads: [op.logits, LABELS_BUFFER], writes: present(op.dlogits) }),
  reference(op, e) {
    const { lossSum, correct } = categoricalCrossentropy(e.buf(op.logits), e.labels, op.dlogits ? e.buf(op.dlogits) : null, e.rows, op.classes, op.smoothing, e.rows);
    e.addMetrics(lossSum, correct, e.rows);
  },
  wasm: {
    code: 94,
    fn: 'categoricalCrossentropy',
    module: './classification',
    fields: [['logits', 'ptr'], ['dlogits', 'ptr'], ['classes', 'i32'], ['smoothing', 'f32'], ['labels', 'ptr']],
    params: [['logits', 'usize'], ['labels', 'usize'], ['dlogits', 'usize'], ['M', 'i32'], ['C', 'i32'], ['smoothing', 'f32'], ['gradScale', 'f64'], ['metrics', 'usize']],
    imports: [['softmax', './loss']],
    args: '{logits}, {labels}, {dlogits}, rows, {classes}, {smoothing}, <f64>rows, gMetrics',
    guard: { when: 'gProbs != 0', then: 'softmax({logits}, gProbs + ((<usize>start * <usize>{classes}) << 2), rows, {classes})' },
    encode: (op, L) => [L.ptr(op.logits), L.ptr(op.dlogits), op.classes, f32Bits(op.smoothing), L.labels],
  },
  webgpu: labelLossWebgpu<CategoricalCrossentropyOp>('categorical_crossentropy', (op) => ({ SMOOTHING: op.smoothing })),
  bench: labelLossBench(6, (C) => ({ kind: 'categorical_crossentropy', layer: 'loss', logits: 'logits', dlogits: 'dlogits', classes: C, smoothing: 0.1 })),
  custom: labelLossCustom(['SMOOTHING'], "dlogits = (softmax − y′) · ctx.inv_rows with y′ = (1 − SMOOTHING)·onehot + SMOOTHING/C; adds the loss sum (fixed point, 2^-24) and correct count to metrics"),
});
