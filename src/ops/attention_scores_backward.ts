// attention_scores_backward: dq and dk from the gradient of the attention
// probabilities. ds = p·(dp − Σ_j p·dp) (the softmax backward; masked
// probabilities are 0, so the mask needs no field), then dq = scale·ds·k and
// dk = scale·dsᵀ·q per head. `ds` is a scratch buffer shaped like probs.
// Kernels: kernels/as/attention.ts and kernels/wgsl/attention_ds.wgsl +
// attention_mix.wgsl (three dispatches).

import { ATTENTION_CASES, attentionScoresBackward } from './attention-math.js';
import { randomProbs } from './attention_values.js';
import { defineOp, f32Bits, grid1d, NO_OPTIMIZER, type OpRecordBase } from './types.js';

export interface AttentionScoresBackwardOp extends OpRecordBase {
  kind: 'attention_scores_backward'; dprobs: string; probs: string; q: string; k: string; dq: string; dk: string; ds: string;
  seq: number; heads: number; keyDim: number; scale: number;
}

export const attentionScoresBackwardOp = defineOp<AttentionScoresBackwardOp>({
  kind: 'attention_scores_backward',
  summary: 'dq, dk of the attention scores through the softmax (ds scratch)',
  buffers: (op) => ({ reads: [op.dprobs, op.probs, op.q, op.k], writes: [op.ds, op.dq, op.dk] }),
  reference(op, e) {
    attentionScoresBackward(e.buf(op.dprobs), e.buf(op.probs), e.buf(op.q), e.buf(op.k), e.buf(op.dq), e.buf(op.dk), e.buf(op.ds), { rows: e.rows, T: op.seq, H: op.heads }, op.keyDim, Math.fround(op.scale));
  },
  wasm: {
    code: 18,
    fn: 'attentionScoresBackward',
    module: './attention',
    fields: [['dprobs', 'ptr'], ['probs', 'ptr'], ['q', 'ptr'], ['k', 'ptr'], ['dq', 'ptr'], ['dk', 'ptr'], ['ds', 'ptr'], ['seq', 'i32'], ['heads', 'i32'], ['keyDim', 'i32'], ['scale', 'f32']],
    params: [['dprobs', 'usize'], ['probs', 'usize'], ['q', 'usize'], ['k', 'usize'], ['dq', 'usize'], ['dk', 'usize'], ['ds', 'usize'], ['rows', 'i32'], ['T', 'i32'], ['H', 'i32'], ['D', 'i32'], ['scale', 'f32']],
    args: '{dprobs}, {probs}, {q}, {k}, {dq}, {dk}, {ds}, rows, {seq}, {heads}, {keyDim}, {scale}',
    encode: (op, L) => [L.ptr(op.dprobs), L.ptr(op.probs), L.ptr(op.q), L.ptr(op.k), L.ptr(op.dq), L.ptr(op.dk), L.ptr(op.ds), op.seq, op.heads, op.keyDim, f32Bits(op.scale)],
  },
  webgpu: {
    kernels: { attention_ds: ['read', 'read', 'rw'], attention_mix: ['read', 'read', 'rw'] },
    async dispatches(op, env) {
      const shape = { T: op.seq, H: op.heads };
      const c = { ...shape, D: op.keyDim, SCALE: op.scale };
      const ds = [env.range(op.dprobs), env.range(op.probs), env.range(op.ds)];
      // A user's kernel replaces the softmax-backward pass; the two matmul passes stay built in.
      const first = env.custom ? await env.custom(op.layer, c, ds, env.B, op.heads * op.seq) : await env.dispatch('attention_ds', `${op.layer} ds`, shape, ds, grid1d(env.B * op.heads * op.seq));
      const grid = grid1d(env.B * op.seq * op.heads * op.keyDim);
      return [
        first,
        await env.dispatch('attention_mix', `${op.layer} dq`, { ...c, TRANSPOSE: false }, [env.range(op.ds), env.range(op.k), env.range(op.dq)], grid),
        await env.dispatch('attention_mix', `${op.layer} dk`, { ...c, TRANSPOSE: true }, [env.range(op.ds), env.range(op.q), env.range(op.dk)], grid),
      ];
    },
  },
  bench: {
    shape: 'M,T,H,dk',
    dims: (op, B) => [B, op.seq, op.heads, op.keyDim],
    fromMKN: ([M, K, N]) => [M, K, 1, N],
    work: ([M, T, H, D]) => ({ flops: 4 * M! * H! * T! * T! * D! + 4 * M! * H! * T! * T!, bytes: 4 * M! * (4 * T! * H! * D! + 3 * H! * T! * T!), unit: 'GFLOP/s' }),
    cases: ATTENTION_CASES,
    instance([M, T, H, D], random) {
      const n = M! * H! * T! * T!;
      const probs = randomProbs(n, T!, random);
      return {
        op: { kind: 'attention_scores_backward', layer: 'bench', dprobs: 'dprobs', probs: 'probs', q: 'q', k: 'k', dq: 'dq', dk: 'dk', ds: 'ds', seq: T!, heads: H!, keyDim: D!, scale: 1 / Math.sqrt(D!) },
        rows: M!, inputs: { dprobs: random(n), probs, q: random(M! * T! * H! * D!), k: random(M! * T! * H! * D!) },
        outputs: { ds: n, dq: M! * T! * H! * D!, dk: M! * T! * H! * D! },
        step: 0, seed: 1, optimizer: NO_OPTIMIZER,
      };
    },
  },
  custom: {
    bindings: [{ name: 'dprobs', access: 'read' }, { name: 'probs', access: 'read' }, { name: 'ds', access: 'rw' }],
    overrides: ['T', 'H', 'D', 'SCALE'],
    output: ([M, T, H]) => [M!, H! * T!],
    outputNames: ['M', 'H·T'],
    computes: 'the first pass only: ds[r,h,i,j] = p·(dp − Σ_j p·dp); the built-in attention_mix passes then form dq and dk',
  },
});
