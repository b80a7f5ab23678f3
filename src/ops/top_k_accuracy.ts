// top_k_categorical_accuracy: per row, 1 when the true class (the batch's
// class id) is among the k highest logits, as Keras's in_top_k: a row counts
// when fewer than k logits are strictly greater than the label's (so ties at
// the k-th value count as in). The count accumulates in a metric accumulator.

import { LABELS_BUFFER } from './gather.js';
import { defineOp, NO_OPTIMIZER, type OpRecordBase } from './types.js';

export interface TopKAccuracyOp extends OpRecordBase {
  kind: 'top_k_categorical_accuracy'; logits: string; classes: number; k: number; accumulator: number;
}

export function topKCount(logits: Float32Array, labels: ArrayLike<number>, M: number, C: number, k: number): number {
  let count = 0;
  for (let i = 0; i < M; i++) {
    const o = i * C, z = logits[o + labels[i]!]!;
    let above = 0;
    for (let c = 0; c < C; c++) if (logits[o + c]! > z) above++;
    if (above < k) count++;
  }
  return count;
}

export const topKAccuracyOp = defineOp<TopKAccuracyOp>({
  kind: 'top_k_categorical_accuracy',
  summary: 'the count of rows whose class is among the k highest logits (a metric)',
  buffers: (op) => ({ reads: [op.logits, LABELS_BUFFER], writes: [] }),
  reference(op, e) {
    e.addMetric(op.accumulator, topKCount(e.buf(op.logits), e.labels, e.rows, op.classes, op.k));
  },
  wasm: {
    code: 96,
    fn: 'topKCount',
    module: './classification',
    fields: [['logits', 'ptr'], ['classes', 'i32'], ['k', 'i32'], ['accumulator', 'i32'], ['labels', 'ptr']],
    params: [['logits', 'usize'], ['labels', 'usize'], ['M', 'i32'], ['C', 'i32'], ['k', 'i32'], ['metrics', 'usize'], ['accumulator', 'i32']],
    args: '{logits}, {labels}, rows, {classes}, {k}, gMetrics, {accumulator}',
    encode: (op, L) => [L.ptr(op.logits), op.classes, op.k, op.accumulator, L.labels],
  },
  webgpu: {
    kernels: { top_k_accuracy: ['read', 'read', 'rw'] },
    async dispatches(op, env) {
      const c = { C: op.classes, K: op.k };
      const b = [env.range(op.logits), env.labels(), env.metrics(op.accumulator)];
      if (env.custom) return [await env.custom(env.mode, c, b, env.B, 1)];
      return [await env.dispatch('top_k_accuracy', `${env.mode} metric ${op.accumulator}`, c, b, [1, 1])];
    },
  },
  bench: {
    shape: 'M,C',
    dims: (op, B) => [B, op.classes],
    fromMKN: ([M, , N]) => [M, N],
    work: ([M, C]) => ({ flops: M! * C!, bytes: 4 * (M! * C! + M!), unit: 'GB/s' }),
    instance([M, C], random) {
      const logits = random(M! * C!, 4);
      const labels = Uint32Array.from({ length: M! }, (_, i) => (i * 7 + 3) % C!);
      // A tie at the label's value in some rows: in_top_k counts them in.
      for (let i = 1; i < M!; i += 3) if (C! > 1) logits[i * C! + ((labels[i]! + 1) % C!)] = logits[i * C! + labels[i]!]!;
      return {
        op: { kind: 'top_k_categorical_accuracy', layer: 'metrics', logits: 'logits', classes: C!, k: Math.min(3, C!), accumulator: 0 },
        rows: M!, inputs: { logits }, outputs: {}, labels, step: 0, seed: 1, optimizer: NO_OPTIMIZER,
      };
    },
  },
  custom: {
    bindings: [{ name: 'logits', access: 'read' }, { name: 'labels', access: 'read' }, { name: 'metrics', access: 'rw' }],
    overrides: ['C', 'K'],
    output: ([M]) => [M!, 1],
    outputNames: ['M', '1'],
    computes: 'adds to metrics (fixed point, 2^-24) the count of rows r < ctx.rows with fewer than K logits strictly above logits[r·C + labels[r]]',
  },
});
