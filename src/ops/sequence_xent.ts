// sequence_xent: sparse categorical cross-entropy at every position of a
// sequence, fused with its gradient: logits [rows, T, C], class ids in the
// `targets` buffer [rows, T] (floats holding integers, as gather_targets
// writes the next characters of a text window). Keras reduces over batch
// and positions alike, so per position
//   loss = logsumexp(z) − z[label];   dLogits = (softmax(z) − onehot) / (rows·T)
// and the metrics add, per example, its mean loss over the positions and
// its count of positions whose first argmax is the label (the backend's
// accuracy is correct / (examples · T): Graph.positions).

import { TARGETS_BUFFER } from './gather_targets.js';
import { softmaxXent } from './softmax_xent.js';
import { defineOp, NO_OPTIMIZER, present, type OpRecordBase } from './types.js';

export interface SequenceXentOp extends OpRecordBase { kind: 'sequence_xent'; logits: string; dlogits: string | null; positions: number; classes: number }

/** softmax_xent's rows·T rows of C logits, with the class ids of the targets clamped to 0…C−1; the loss per example is its mean over positions. */
export function sequenceXent(
  logits: Float32Array, labels: Float32Array, dLogits: Float32Array | null, rows: number, T: number, C: number,
): { lossSum: number; correct: number } {
  const ids = Uint32Array.from(labels.subarray(0, rows * T), (v) => Math.min(C - 1, Math.max(0, Math.trunc(v))));
  const { lossSum, correct } = softmaxXent(logits, ids, dLogits, rows * T, C, rows * T);
  return { lossSum: lossSum / T, correct };
}

export const sequenceXentOp = defineOp<SequenceXentOp>({
  kind: 'sequence_xent',
  summary: 'per-position softmax cross-entropy over [rows, T, C] logits against class ids in targets, fused with dLogits',
  buffers: (op) => ({ reads: [op.logits, TARGETS_BUFFER], writes: present(op.dlogits) }),
  reference(op, e) {
    const { lossSum, correct } = sequenceXent(e.buf(op.logits), e.buf(TARGETS_BUFFER), op.dlogits ? e.buf(op.dlogits) : null, e.rows, op.positions, op.classes);
    e.addMetrics(lossSum, correct, e.rows);
  },
  wasm: {
    code: 47,
    fn: 'sequenceXent',
    module: './sequence_loss',
    fields: [['logits', 'ptr'], ['dlogits', 'ptr'], ['positions', 'i32'], ['classes', 'i32'], ['targets', 'ptr']],
    params: [['logits', 'usize'], ['targets', 'usize'], ['dlogits', 'usize'], ['rows', 'i32'], ['T', 'i32'], ['C', 'i32'], ['metrics', 'usize']],
    args: '{logits}, {targets}, {dlogits}, rows, {positions}, {classes}, gMetrics',
    encode: (op, L) => [L.ptr(op.logits), L.ptr(op.dlogits), op.positions, op.classes, L.ptr(TARGETS_BUFFER)],
  },
  webgpu: {
    kernels: { sequence_xent: ['read', 'read', 'rw', 'rw'] },
    async dispatches(op, env) {
      const grad = op.dlogits !== null && env.mode === 'train';
      const c = { T: op.positions, C: op.classes, HAS_GRAD: grad };
      const b = [env.range(op.logits), env.range(TARGETS_BUFFER), grad ? env.range(op.dlogits) : env.scratch(), env.metrics()];
      if (env.custom) return [await env.custom(env.mode, c, b, env.B, op.positions * op.classes)];
      return [await env.dispatch('sequence_xent', env.mode, c, b, [1, 1])];
    },
  },
  bench: {
    shape: 'M,T,C',
    dims: (op, B) => [B, op.positions, op.classes],
    fromMKN: ([M, K, N]) => [M, K, N],
    work: ([M, T, C]) => ({ flops: 5 * M! * T! * C!, bytes: 4 * (2 * M! * T! * C! + M! * T!), unit: 'GB/s' }),
    cases: [[1, 1, 2], [3, 5, 7], [2, 64, 33]],
    instance([M, T, C], random) {
      const logits = random(M! * T! * C!, 4);
      const targets = Float32Array.from({ length: M! * T! }, (_, i) => (i * 7 + 3) % C!);
      for (let i = 0; i < M! * T!; i += 2) logits[i * C! + targets[i]!] = 9; // some positions right, so the count is exercised
      return {
        op: { kind: 'sequence_xent', layer: 'loss', logits: 'logits', dlogits: 'dlogits', positions: T!, classes: C! },
        rows: M!, inputs: { logits, [TARGETS_BUFFER]: targets }, outputs: { dlogits: M! * T! * C! }, step: 0, seed: 1, optimizer: NO_OPTIMIZER,
      };
    },
  },
  custom: {
    bindings: [{ name: 'logits', access: 'read' }, { name: 'targets', access: 'read' }, { name: 'dlogits', access: 'rw' }, { name: 'metrics', access: 'rw' }],
    overrides: ['T', 'C', 'HAS_GRAD'],
    output: ([M, T, C]) => [M!, T! * C!],
    outputNames: ['M', 'T·C'],
    computes: 'dlogits = (softmax − onehot) · ctx.inv_rows / T per position; adds Σ loss / T (fixed point, 2^-24) and the correct positions to metrics',
  },
});
