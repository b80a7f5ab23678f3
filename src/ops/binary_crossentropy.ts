// binary_crossentropy: one output per row against labels 0/1 (the batch's
// class ids), with Keras's label_smoothing ε: y' = y·(1 − ε) + ε/2.
//   from logits z (stable for any z):
//     loss = max(z, 0) − z·y' + log(1 + e^−|z|);   dZ = (σ(z) − y') / rows
//   from probabilities p (Keras clips to [1e-7, 1 − 1e-7]):
//     loss = −(y'·log p + (1 − y')·log(1 − p));   dP = (p − y') / (p(1 − p)) / rows
//     inside the clip range, 0 outside it
// plus the correct count (binary accuracy: σ(z) > 0.5, i.e. z > 0, or
// p > 0.5, exactly when the label is 1). The wasm call doubles as predict's
// output (gProbs): σ(z) from logits, p as it is.

import { LABELS_BUFFER } from './gather.js';
import { defineOp, f32Bits, NO_OPTIMIZER, present, type OpRecordBase } from './types.js';

export interface BinaryCrossentropyOp extends OpRecordBase {
  kind: 'binary_crossentropy'; outputs: string; dOutputs: string | null; fromLogits: boolean; smoothing: number;
}

/** Keras's backend epsilon, the clip of probabilities. */
export const BCE_EPSILON = 1e-7;

export function binaryCrossentropy(
  outputs: Float32Array, labels: ArrayLike<number>, dOut: Float32Array | null,
  M: number, fromLogits: boolean, smoothing: number, gradScale: number,
): { lossSum: number; correct: number } {
  let lossSum = 0, correct = 0;
  const inv = 1 / gradScale;
  for (let i = 0; i < M; i++) {
    const v = outputs[i]!, label = labels[i]!, y = label * (1 - smoothing) + 0.5 * smoothing;
    if (fromLogits) {
      lossSum += Math.max(v, 0) - v * y + Math.log1p(Math.exp(-Math.abs(v)));
      const s = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
      if (dOut) dOut[i] = (s - y) * inv;
      if ((v > 0 ? 1 : 0) === label) correct++;
    } else {
      const p = Math.min(Math.max(v, BCE_EPSILON), 1 - BCE_EPSILON);
      lossSum += -(y * Math.log(p) + (1 - y) * Math.log(1 - p));
      if (dOut) dOut[i] = v >= BCE_EPSILON && v <= 1 - BCE_EPSILON ? ((p - y) / (p * (1 - p))) * inv : 0;
      if ((v > 0.5 ? 1 : 0) === label) correct++;
    }
  }
  return { lossSum, correct };
}

export const binaryCrossentropyOp = defineOp<BinaryCrossentropyOp>({
  kind: 'binary_crossentropy',
  summary: 'fused binary cross-entropy from logits (stable) or clipped probabilities, its gradient and the binary-accuracy count',
  buffers: (op) => ({ reads: [op.outputs, LABELS_BUFFER], writes: present(op.dOutputs) }),
  reference(op, e) {
    const { lossSum, correct } = binaryCrossentropy(e.buf(op.outputs), e.labels, op.dOutputs ? e.buf(op.dOutputs) : null, e.rows, op.fromLogits, op.smoothing, e.rows);
    e.addMetrics(lossSum, correct, e.rows);
  },
  wasm: {
    code: 95,
    fn: 'binaryCrossentropy',
    module: './classification',
    fields: [['outputs', 'ptr'], ['dOutputs', 'ptr'], ['fromLogits', 'i32'], ['smoothing', 'f32'], ['labels', 'ptr']],
    params: [['z', 'usize'], ['labels', 'usize'], ['dz', 'usize'], ['M', 'i32'], ['fromLogits', 'i32'], ['smoothing', 'f32'], ['gradScale', 'f64'], ['metrics', 'usize']],
    imports: [['binaryOutputs', './classification']],
    args: '{outputs}, {labels}, {dOutputs}, rows, {fromLogits}, {smoothing}, <f64>rows, gMetrics',
    guard: { when: 'gProbs != 0', then: 'binaryOutputs({outputs}, gProbs + (<usize>start << 2), rows, {fromLogits})' },
    encode: (op, L) => [L.ptr(op.outputs), L.ptr(op.dOutputs), op.fromLogits ? 1 : 0, f32Bits(op.smoothing), L.labels],
  },
  webgpu: {
    kernels: { binary_crossentropy: ['read', 'read', 'rw', 'rw'] },
    async dispatches(op, env) {
      const grad = op.dOutputs !== null && env.mode === 'train';
      const c = { FROM_LOGITS: op.fromLogits, SMOOTHING: op.smoothing, HAS_GRAD: grad };
      const b = [env.range(op.outputs), env.labels(), grad ? env.range(op.dOutputs) : env.scratch(), env.metrics()];
      if (env.custom) return [await env.custom(env.mode, c, b, env.B, 1)];
      return [await env.dispatch('binary_crossentropy', env.mode, c, b, [1, 1])];
    },
  },
  bench: {
    // L: 1 from logits, 0 from probabilities.
    shape: 'M,L',
    dims: (op, B) => [B, op.fromLogits ? 1 : 0],
    fromMKN: ([M]) => [M, 1],
    work: ([M]) => ({ flops: 12 * M!, bytes: 12 * M!, unit: 'GB/s' }),
    cases: [[7, 1], [33, 0], [2, 1], [64, 0], [1, 1], [129, 1]],
    instance([M, L], random) {
      // Logits in [−30, 30] (both tails: stability); probabilities in (0.01, 0.99).
      const fromLogits = L === 1;
      const outputs = fromLogits ? random(M!, 30) : Float32Array.from(random(M!, 1), (v) => 0.5 + 0.49 * v);
      const labels = Uint32Array.from({ length: M! }, (_, i) => (i * 5 + 1) % 3 === 0 ? 1 : 0);
      return {
        op: { kind: 'binary_crossentropy', layer: 'loss', outputs: 'outputs', dOutputs: 'dOutputs', fromLogits, smoothing: 0.1 },
        rows: M!, inputs: { outputs }, outputs: { dOutputs: M! }, labels, step: 0, seed: 1, optimizer: NO_OPTIMIZER,
      };
    },
  },
  custom: {
    bindings: [{ name: 'outputs', access: 'read' }, { name: 'labels', access: 'read' }, { name: 'dOutputs', access: 'rw' }, { name: 'metrics', access: 'rw' }],
    overrides: ['FROM_LOGITS', 'SMOOTHING', 'HAS_GRAD'],
    output: ([M]) => [M!, 1],
    outputNames: ['M', '1'],
    computes: "dOutputs = (σ(z) − y′) · ctx.inv_rows from logits, or (p − y′)/(p(1 − p)) · ctx.inv_rows inside [1e-7, 1 − 1e-7] from probabilities, y′ = y(1 − SMOOTHING) + SMOOTHING/2; adds the loss sum (fixed point, 2^-24) and the binary-accuracy count to metrics",
  },
});
