// attention_values_backward: dprobs_ij = dout_i·v_j and dv_j = Σ_i probs_ij·dout_i
// per head (overwriting both). Kernels: kernels/as/attention.ts and
// kernels/wgsl/attention_qk.wgsl (without softmax) + attention_mix.wgsl.

import { ATTENTION_CASES, attentionValuesBackward } from './attention-math.js';
import { randomProbs } from './attention_values.js';
import { defineOp, grid1d, NO_OPTIMIZER, type OpRecordBase } from './types.js';

export interface AttentionValuesBackwardOp extends OpRecordBase {
  kind: 'attention_values_backward'; dout: string; probs: string; v: string; dprobs: string; dv: string; seq: number; heads: number; valueDim: number;
}

export const attentionValuesBackwardOp = defineOp<AttentionValuesBackwardOp>({
  kind: 'attention_values_backward',
  summary: 'dprobs = dout·vᵀ and dv = probsᵀ·dout per head',
  buffers: (op) => ({ reads: [op.dout, op.probs, op.v], writes: [op.dprobs, op.dv] }),
  reference: (op, e) => attentionValuesBackward(e.buf(op.dout), e.buf(op.probs), e.buf(op.v), e.buf(op.dprobs), e.buf(op.dv), { rows: e.rows, T: op.seq, H: op.heads }, op.valueDim),
  wasm: {
    code: 46,
    fn: 'attentionValuesBackward',
    module: './attention',
    fields: [['dout', 'ptr'], ['probs', 'ptr'], ['v', 'ptr'], ['dprobs', 'ptr'], ['dv', 'ptr'], ['seq', 'i32'], ['heads', 'i32'], ['valueDim', 'i32']],
    params: [['dout', 'usize'], ['probs', 'usize'], ['v', 'usize'], ['dprobs', 'usize'], ['dv', 'usize'], ['rows', 'i32'], ['T', 'i32'], ['H', 'i32'], ['D', 'i32']],
    args: '{dout}, {probs}, {v}, {dprobs}, {dv}, rows, {seq}, {heads}, {valueDim}',
    encode: (op, L) => [L.ptr(op.dout), L.ptr(op.probs), L.ptr(op.v), L.ptr(op.dprobs), L.ptr(op.dv), op.seq, op.heads, op.valueDim],
  },
  webgpu: {
    kernels: { attention_qk: ['read', 'read', 'rw'], attention_mix: ['read', 'read', 'rw'] },
    async dispatches(op, env) {
      const c = { T: op.seq, H: op.heads, D: op.valueDim };
      const dprobs = [env.range(op.dout), env.range(op.v), env.range(op.dprobs)];
      // A user's kernel replaces the dprobs pass; dv stays built in.
      const first = env.custom
        ? await env.custom(op.layer, c, dprobs, env.B, op.heads * op.seq)
        : await env.dispatch('attention_qk', `${op.layer} dprobs`, { ...c, SOFTMAX: false, CAUSAL: false, SCALE: 1 }, dprobs, grid1d(env.B * op.heads * op.seq));
      const dv = await env.dispatch('attention_mix', `${op.layer} dv`, { ...c, TRANSPOSE: true, SCALE: 1 }, [env.range(op.probs), env.range(op.dout), env.range(op.dv)], grid1d(env.B * op.seq * op.heads * op.valueDim));
      return [first, dv];
    },
  },
  bench: {
    shape: 'M,T,H,dv',
    dims: (op, B) => [B, op.seq, op.heads, op.valueDim],
    fromMKN: ([M, K, N]) => [M, K, 1, N],
    work: ([M, T, H, D]) => ({ flops: 4 * M! * H! * T! * T! * D!, bytes: 4 * M! * (3 * T! * H! * D! + 2 * H! * T! * T!), unit: 'GFLOP/s' }),
    cases: ATTENTION_CASES,
    instance: ([M, T, H, D], random) => ({
      op: { kind: 'attention_values_backward', layer: 'bench', dout: 'dout', probs: 'probs', v: 'v', dprobs: 'dprobs', dv: 'dv', seq: T!, heads: H!, valueDim: D! },
      rows: M!, inputs: { dout: random(M! * T! * H! * D!), probs: randomProbs(M! * H! * T! * T!, T!, random), v: random(M! * T! * H! * D!) },
      outputs: { dprobs: M! * H! * T! * T!, dv: M! * T! * H! * D! },
      step: 0, seed: 1, optimizer: NO_OPTIMIZER,
    }),
  },
  custom: {
    bindings: [{ name: 'dout', access: 'read' }, { name: 'v', access: 'read' }, { name: 'dprobs', access: 'rw' }],
    overrides: ['T', 'H', 'D'],
    output: ([M, T, H]) => [M!, H! * T!],
    outputNames: ['M', 'H·T'],
    computes: 'the first pass only: dprobs[r,h,i,j] = dout[r,i,h·D:h·D+D]·v[r,j,h·D:h·D+D]; the built-in attention_mix pass forms dv',
  },
});
