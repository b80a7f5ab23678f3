// attention_scores: the attention probabilities of every head, softmax_j of
// scale·q_i·k_j with an optional causal mask (src/ops/attention-math.ts has
// the layout). Part of multi_head_attention (src/layers), composed from
// batched matmuls and a masked softmax so that the layer's dropout is the
// ordinary dropout op on the probabilities. Kernels: kernels/as/attention.ts
// (qk) and kernels/wgsl/attention_qk.wgsl.

import { ATTENTION_CASES, attentionScores } from './attention-math.js';
import { defineOp, f32Bits, grid1d, NO_OPTIMIZER, type OpRecordBase } from './types.js';

export interface AttentionScoresOp extends OpRecordBase {
  kind: 'attention_scores'; q: string; k: string; probs: string; seq: number; heads: number; keyDim: number; causal: boolean; scale: number;
}

export const attentionScoresOp = defineOp<AttentionScoresOp>({
  kind: 'attention_scores',
  summary: 'attention probabilities softmax_j(scale·q_i·k_j) per head, optional causal mask',
  buffers: (op) => ({ reads: [op.q, op.k], writes: [op.probs] }),
  reference: (op, e) => attentionScores(e.buf(op.q), e.buf(op.k), e.buf(op.probs), { rows: e.rows, T: op.seq, H: op.heads }, op.keyDim, op.causal, Math.fround(op.scale)),
  wasm: {
    code: 17,
    fn: 'attentionScores',
    module: './attention',
    fields: [['q', 'ptr'], ['k', 'ptr'], ['probs', 'ptr'], ['seq', 'i32'], ['heads', 'i32'], ['keyDim', 'i32'], ['causal', 'i32'], ['scale', 'f32']],
    params: [['q', 'usize'], ['k', 'usize'], ['probs', 'usize'], ['rows', 'i32'], ['T', 'i32'], ['H', 'i32'], ['D', 'i32'], ['causal', 'i32'], ['scale', 'f32']],
    args: '{q}, {k}, {probs}, rows, {seq}, {heads}, {keyDim}, {causal}, {scale}',
    encode: (op, L) => [L.ptr(op.q), L.ptr(op.k), L.ptr(op.probs), op.seq, op.heads, op.keyDim, op.causal ? 1 : 0, f32Bits(op.scale)],
  },
  webgpu: {
    kernels: { attention_qk: ['read', 'read', 'rw'] },
    async dispatches(op, env) {
      const io = [env.range(op.q), env.range(op.k), env.range(op.probs)];
      const c = { T: op.seq, H: op.heads, D: op.keyDim, CAUSAL: op.causal, SCALE: op.scale };
      if (env.custom) return [await env.custom(op.layer, c, io, env.B, op.heads * op.seq)];
      return [await env.dispatch('attention_qk', `${op.layer} scores`, { ...c, SOFTMAX: true }, io, grid1d(env.B * op.heads * op.seq))];
    },
  },
  bench: {
    shape: 'M,T,H,dk',
    dims: (op, B) => [B, op.seq, op.heads, op.keyDim],
    fromMKN: ([M, K, N]) => [M, K, 1, N],
    work: ([M, T, H, D]) => ({ flops: 2 * M! * H! * T! * T! * D!, bytes: 4 * M! * (2 * T! * H! * D! + H! * T! * T!), unit: 'GFLOP/s' }),
    cases: ATTENTION_CASES,
    instance: ([M, T, H, D], random) => ({
      op: { kind: 'attention_scores', layer: 'bench', q: 'q', k: 'k', probs: 'probs', seq: T!, heads: H!, keyDim: D!, causal: T! % 2 === 1, scale: 1 / Math.sqrt(D!) },
      rows: M!, inputs: { q: random(M! * T! * H! * D!, 2), k: random(M! * T! * H! * D!, 2) }, outputs: { probs: M! * H! * T! * T! },
      step: 0, seed: 1, optimizer: NO_OPTIMIZER,
    }),
  },
  custom: {
    bindings: [{ name: 'q', access: 'read' }, { name: 'k', access: 'read' }, { name: 'probs', access: 'rw' }],
    overrides: ['T', 'H', 'D', 'CAUSAL', 'SCALE'],
    output: ([M, T, H]) => [M!, H! * T!],
    outputNames: ['M', 'H·T'],
    computes: 'probs[r,h,i,:] = softmax_j(SCALE · q[r,i,h·D:h·D+D]·k[r,j,h·D:h·D+D]), j ≤ i only when CAUSAL (probability 0 beyond)',
  },
  gradient: {
    wrt: (op) => [op.q, op.k],
    backward: (op, grad) => ({
      ops: [{ kind: 'attention_scores_backward', layer: op.layer, dprobs: grad(op.probs), probs: op.probs, q: op.q, k: op.k, dq: grad(op.q), dk: grad(op.k), ds: 'attention_ds', seq: op.seq, heads: op.heads, keyDim: op.keyDim, scale: op.scale } as OpRecordBase],
      scratch: { attention_ds: op.probs },
    }),
  },
});
