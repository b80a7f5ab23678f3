// categorical_crossentropy: softmax cross-entropy against one-hot labels
// built from the batch's class ids, with Keras's label_smoothing ε: the
// labels are y' = (1 − ε)·onehot + ε/C, and per row (max-subtracted)
//   loss = Σ_c y'_c (logsumexp(z) − z_c);  dLogits = (softmax(z) − y') / rows
// plus the correct count (first argmax = label: categorical accuracy). With
// ε = 0 it is sparse_categorical_crossentropy's softmax_xent. Loss sums and
// counts accumulate in the backend's metrics; without dlogits (evaluation) it
// only accumulates. The wasm call doubles as predict's softmax (gProbs).

import { LABELS_BUFFER } from './gather.js';
import { defineOp, f32Bits, NO_OPTIMIZER, present, type OpRecordBase } from './types.js';

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
    let max = logits[o]!, arg = 0;
    for (let c = 1; c < C; c++) if (logits[o + c]! > max) { max = logits[o + c]!; arg = c; }
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(logits[o + c]! - max);
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
  webgpu: {
    kernels: { categorical_crossentropy: ['read', 'read', 'rw', 'rw'] },
    async dispatches(op, env) {
      const grad = op.dlogits !== null && env.mode === 'train';
      const c = { C: op.classes, SMOOTHING: op.smoothing, HAS_GRAD: grad };
      const b = [env.range(op.logits), env.labels(), grad ? env.range(op.dlogits) : env.scratch(), env.metrics()];
      if (env.custom) return [await env.custom(env.mode, c, b, env.B, op.classes)];
      return [await env.dispatch('categorical_crossentropy', env.mode, c, b, [1, 1])];
    },
  },
  bench: {
    shape: 'M,C',
    dims: (op, B) => [B, op.classes],
    fromMKN: ([M, , N]) => [M, N],
    work: ([M, C]) => ({ flops: 6 * M! * C!, bytes: 4 * (2 * M! * C! + M!), unit: 'GB/s' }),
    instance([M, C], random) {
      const logits = random(M! * C!, 4);
      const labels = Uint32Array.from({ length: M! }, (_, i) => (i * 7 + 3) % C!);
      for (let i = 0; i < M!; i += 2) logits[i * C! + labels[i]!] = 9; // some rows right, so the count is exercised
      return {
        op: { kind: 'categorical_crossentropy', layer: 'loss', logits: 'logits', dlogits: 'dlogits', classes: C!, smoothing: 0.1 },
        rows: M!, inputs: { logits }, outputs: { dlogits: M! * C! }, labels, step: 0, seed: 1, optimizer: NO_OPTIMIZER,
      };
    },
  },
  custom: {
    bindings: [{ name: 'logits', access: 'read' }, { name: 'labels', access: 'read' }, { name: 'dlogits', access: 'rw' }, { name: 'metrics', access: 'rw' }],
    overrides: ['C', 'SMOOTHING', 'HAS_GRAD'],
    output: ([M, C]) => [M!, C!],
    outputNames: ['M', 'C'],
    computes: "dlogits = (softmax − y′) · ctx.inv_rows with y′ = (1 − SMOOTHING)·onehot + SMOOTHING/C; adds the loss sum (fixed point, 2^-24) and correct count to metrics",
  },
});
