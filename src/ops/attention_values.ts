// attention_values: the weighted sum of the values per head,
// o_i = Σ_j probs_ij · v_j (src/ops/attention-math.ts has the layout).
// Kernels: kernels/as/attention.ts (mix) and kernels/wgsl/attention_mix.wgsl.

import { ATTENTION_CASES, attentionValues } from './attention-math.js';
import { defineOp, grid1d, NO_OPTIMIZER, type OpRecordBase } from './types.js';

export interface AttentionValuesOp extends OpRecordBase {
  kind: 'attention_values'; probs: string; v: string; o: string; seq: number; heads: number; valueDim: number;
}

/** Rows of positive probabilities summing to 1, like the scores op writes (bench and conformance inputs). */
export function randomProbs(n: number, T: number, random: (n: number) => Float32Array): Float32Array {
  const probs = random(n).map((v) => Math.abs(v) + 0.01);
  for (let row = 0; row < n / T; row++) {
    let s = 0;
    for (let j = 0; j < T; j++) s += probs[row * T + j]!;
    for (let j = 0; j < T; j++) probs[row * T + j]! /= s;
  }
  return probs;
}

export const attentionValuesOp = defineOp<AttentionValuesOp>({
  kind: 'attention_values',
  summary: 'attention output o_i = Σ_j probs_ij · v_j per head',
  buffers: (op) => ({ reads: [op.probs, op.v], writes: [op.o] }),
  reference: (op, e) => attentionValues(e.buf(op.probs), e.buf(op.v), e.buf(op.o), { rows: e.rows, T: op.seq, H: op.heads }, op.valueDim),
  wasm: {
    code: 19,
    fn: 'attentionValues',
    module: './attention',
    fields: [['probs', 'ptr'], ['v', 'ptr'], ['o', 'ptr'], ['seq', 'i32'], ['heads', 'i32'], ['valueDim', 'i32']],
    params: [['probs', 'usize'], ['v', 'usize'], ['o', 'usize'], ['rows', 'i32'], ['T', 'i32'], ['H', 'i32'], ['D', 'i32']],
    args: '{probs}, {v}, {o}, rows, {seq}, {heads}, {valueDim}',
    encode: (op, L) => [L.ptr(op.probs), L.ptr(op.v), L.ptr(op.o), op.seq, op.heads, op.valueDim],
  },
  webgpu: {
    kernels: { attention_mix: ['read', 'read', 'rw'] },
    async dispatches(op, env) {
      const io = [env.range(op.probs), env.range(op.v), env.range(op.o)];
      const c = { T: op.seq, H: op.heads, D: op.valueDim };
      const cols = op.seq * op.heads * op.valueDim;
      if (env.custom) return [await env.custom(op.layer, c, io, env.B, cols)];
      return [await env.dispatch('attention_mix', `${op.layer} values`, { ...c, TRANSPOSE: false, SCALE: 1 }, io, grid1d(env.B * cols))];
    },
  },
  bench: {
    shape: 'M,T,H,dv',
    dims: (op, B) => [B, op.seq, op.heads, op.valueDim],
    fromMKN: ([M, K, N]) => [M, K, 1, N],
    work: ([M, T, H, D]) => ({ flops: 2 * M! * H! * T! * T! * D!, bytes: 4 * M! * (2 * T! * H! * D! + H! * T! * T!), unit: 'GFLOP/s' }),
    cases: ATTENTION_CASES,
    instance: ([M, T, H, D], random) => ({
      op: { kind: 'attention_values', layer: 'bench', probs: 'probs', v: 'v', o: 'o', seq: T!, heads: H!, valueDim: D! },
      rows: M!, inputs: { probs: randomProbs(M! * H! * T! * T!, T!, random), v: random(M! * T! * H! * D!) }, outputs: { o: M! * T! * H! * D! },
      step: 0, seed: 1, optimizer: NO_OPTIMIZER,
    }),
  },
  custom: {
    bindings: [{ name: 'probs', access: 'read' }, { name: 'v', access: 'read' }, { name: 'o', access: 'rw' }],
    overrides: ['T', 'H', 'D'],
    output: ([M, T, H, D]) => [M!, T! * H! * D!],
    outputNames: ['M', 'T·H·dv'],
    computes: 'o[r,i,h·D+e] = Σ_j probs[r,h,i,j] · v[r,j,h·D+e]',
  },
  gradient: {
    wrt: (op) => [op.probs, op.v],
    backward: (op, grad) => ({
      ops: [{ kind: 'attention_values_backward', layer: op.layer, dout: grad(op.o), probs: op.probs, v: op.v, dprobs: grad(op.probs), dv: grad(op.v), seq: op.seq, heads: op.heads, valueDim: op.valueDim } as OpRecordBase],
    }),
  },
});
