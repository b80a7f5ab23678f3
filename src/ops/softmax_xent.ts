// softmax_xent: sparse categorical cross-entropy from logits, fused with
// its gradient: per row (max-subtracted, numerically stable)
//   loss = logsumexp(z) − z[label];  dLogits = (softmax(z) − onehot) / rows
// plus the correct count (first argmax = label). Loss sums and counts
// accumulate in the backend's metrics. Without dlogits (evaluation) it
// only accumulates. The wasm call doubles as predict's softmax (gProbs).

import { LABELS_BUFFER } from './gather.js';
import { labelLossBench, labelLossCustom, labelLossWebgpu, rowSoftmaxStats } from './label-loss.js';
import { defineOp, present, type OpRecordBase } from './types.js';

export interface SoftmaxXentOp extends OpRecordBase { kind: 'softmax_xent'; logits: string; dlogits: string | null; classes: number }

export function softmaxXent(
  logits: Float32Array, labels: ArrayLike<number>, dLogits: Float32Array | null,
  M: number, C: number, gradScale: number,
): { lossSum: number; correct: number } {
  let lossSum = 0, correct = 0;
  const inv = 1 / gradScale;
  for (let i = 0; i < M; i++) {
    const o = i * C;
    const { max, arg, sum } = rowSoftmaxStats(logits, o, C);
    const label = labels[i]!;
    lossSum += Math.log(sum) + max - logits[o + label]!;
    if (arg === label) correct++;
    if (dLogits) for (let c = 0; c < C; c++) dLogits[o + c] = (Math.exp(logits[o + c]! - max) / sum - (c === label ? 1 : 0)) * inv;
  }
  return { lossSum, correct };
}

/** Row-wise softmax probabilities (predict). */
export function softmaxRows(logits: Float32Array, out: Float32Array, M: number, C: number): void {
  for (let i = 0; i < M; i++) {
    const o = i * C;
    let max = -Infinity;
    for (let c = 0; c < C; c++) max = Math.max(max, logits[o + c]!);
    let sum = 0;
    for (let c = 0; c < C; c++) sum += (out[o + c] = Math.exp(logits[o + c]! - max));
    for (let c = 0; c < C; c++) out[o + c]! /= sum;
  }
}

export const softmaxXentOp = defineOp<SoftmaxXentOp>({
  kind: 'softmax_xent',
  summary: 'fused softmax, cross-entropy loss, dLogits = (softmax − onehot)/rows and correct count',
  buffers: (op) => ({ reads: [op.logits, LABELS_BUFFER], writes: present(op.dlogits) }),
  reference(op, e) {
    const { lossSum, correct } = softmaxXent(e.buf(op.logits), e.labels, op.dlogits ? e.buf(op.dlogits) : null, e.rows, op.classes, e.rows);
    e.addMetrics(lossSum, correct, e.rows);
  },
  wasm: {
    code: 4,
    fn: 'softmaxXent',
    module: './loss',
    fields: [['logits', 'ptr'], ['dlogits', 'ptr'], ['classes', 'i32'], ['labels', 'ptr']],
    params: [['logits', 'usize'], ['labels', 'usize'], ['dlogits', 'usize'], ['M', 'i32'], ['C', 'i32'], ['gradScale', 'f64'], ['metrics', 'usize']],
    imports: [['softmax', './loss']],
    args: '{logits}, {labels}, {dlogits}, rows, {classes}, <f64>rows, gMetrics',
    guard: { when: 'gProbs != 0', then: 'softmax({logits}, gProbs + ((<usize>start * <usize>{classes}) << 2), rows, {classes})' },
    encode: (op, L) => [L.ptr(op.logits), L.ptr(op.dlogits), op.classes, L.labels],
  },
  webgpu: labelLossWebgpu<SoftmaxXentOp>('softmax_xent', () => ({}), { softmax: ['read', 'rw'] }),
  bench: labelLossBench(5, (C) => ({ kind: 'softmax_xent', layer: 'loss', logits: 'logits', dlogits: 'dlogits', classes: C })),
  custom: labelLossCustom([], 'dlogits = (softmax − onehot) · ctx.inv_rows; adds the loss sum (fixed point, 2^-24) and correct count to metrics'),
});
