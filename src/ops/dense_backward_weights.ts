// dense_backward_weights: dW[K×N] = Xᵀ·dY and db[N] = column sums of dY,
// over the batch's M rows. On WebGPU the bias sums are their own small
// kernel (bias_grad), also after a user's dW kernel.

import { matmulDispatch, noSequence, seqConstant } from './matmul-grid.js';
import { defineOp, NO_OPTIMIZER, present, type OpRecordBase } from './types.js';

export interface DenseBackwardWeightsOp extends OpRecordBase {
  kind: 'dense_backward_weights'; x: string; dy: string; dw: string; db: string | null; k: number; n: number;
  /** Positions per example: the sums run over M = rows · seq rows. Default 1. */
  seq?: number;
}

/** dW = Xᵀ·dY [K×N]; db = column sums of dY [N] (db may be null). */
export function denseBackwardWeights(
  X: Float32Array, dY: Float32Array, dW: Float32Array, db: Float32Array | null,
  M: number, K: number, N: number,
): void {
  dW.fill(0, 0, K * N);
  for (let i = 0; i < M; i++) {
    const xo = i * K, yo = i * N;
    for (let k = 0; k < K; k++) {
      const x = X[xo + k]!;
      if (x === 0) continue;
      const wo = k * N;
      for (let j = 0; j < N; j++) dW[wo + j]! += x * dY[yo + j]!;
    }
  }
  if (db) {
    db.fill(0, 0, N);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) db[j]! += dY[i * N + j]!;
  }
}

export const denseBackwardWeightsOp = defineOp<DenseBackwardWeightsOp>({
  kind: 'dense_backward_weights',
  summary: 'dW = Xᵀ·dY, db = column sums of dY',
  buffers: (op) => ({ reads: [op.x, op.dy], writes: present(op.dw, op.db) }),
  reference: (op, e) => denseBackwardWeights(e.buf(op.x), e.buf(op.dy), e.buf(op.dw), op.db ? e.buf(op.db) : null, e.rows * (op.seq ?? 1), op.k, op.n),
  wasm: {
    code: 5,
    fn: 'denseBackwardWeights',
    module: './dense',
    fields: [['x', 'ptr'], ['dy', 'ptr'], ['dw', 'ptr'], ['db', 'ptr'], ['k', 'i32'], ['n', 'i32'], ['sparse', 'i32'], ['seq', 'i32']],
    params: [['x', 'usize'], ['dy', 'usize'], ['dw', 'usize'], ['db', 'usize'], ['M', 'i32'], ['K', 'i32'], ['N', 'i32'], ['sparse', 'i32']],
    args: '{x}, {dy}, {dw}, {db}, rows * {seq}, {k}, {n}, {sparse}',
    encode: (op, L) => [L.ptr(op.x), L.ptr(op.dy), L.ptr(op.dw), L.ptr(op.db), op.k, op.n, L.sparse(op.x) ? 1 : 0, op.seq ?? 1],
  },
  webgpu: {
    kernels: {
      dense_backward_weights: ['read', 'read', 'rw'],
      dense_backward_weights_vec4: ['read', 'read', 'rw'],
      bias_grad: ['read', 'rw'],
    },
    async dispatches(op, env) {
      const io = [env.range(op.x), env.range(op.dy), env.range(op.dw)];
      const out = [];
      if (env.custom) {
        out.push(await env.custom(op.layer, noSequence(op, { K: op.k, N: op.n }), io, op.k, op.n));
      } else {
        const kernel = op.k % 4 === 0 && op.n % 4 === 0 ? 'dense_backward_weights_vec4' : 'dense_backward_weights';
        const { constants, grid } = matmulDispatch(kernel, env.B * (op.seq ?? 1), op.k, op.n);
        out.push(await env.dispatch(kernel, op.layer, { K: op.k, N: op.n, ...constants, ...seqConstant(op.seq) }, io, grid));
      }
      if (op.db) out.push(await env.dispatch('bias_grad', op.layer, { N: op.n, ...seqConstant(op.seq) }, [env.range(op.dy), env.range(op.db)], [Math.ceil(op.n / 64), 1]));
      return out;
    },
  },
  bench: {
    shape: 'M,K,N',
    dims: (op, B) => [B, op.k, op.n],
    fromMKN: ([M, K, N]) => [M, K, N],
    work: ([M, K, N]) => ({ flops: 2 * M! * K! * N! + M! * N!, bytes: 4 * (M! * K! + M! * N! + K! * N! + N!), unit: 'GFLOP/s' }),
    instance: ([M, K, N], random) => ({
      op: { kind: 'dense_backward_weights', layer: 'bench', x: 'x', dy: 'dy', dw: 'dw', db: 'db', k: K!, n: N! },
      rows: M!, inputs: { x: random(M! * K!), dy: random(M! * N!) }, outputs: { dw: K! * N!, db: N! },
      step: 0, seed: 1, optimizer: NO_OPTIMIZER,
    }),
  },
  custom: {
    bindings: [{ name: 'x', access: 'read' }, { name: 'dy', access: 'read' }, { name: 'dw', access: 'rw' }],
    overrides: ['K', 'N'],
    output: ([, K, N]) => [K!, N!],
    outputNames: ['K', 'N'],
    computes: 'dW[K×N] = X[M×K]ᵀ·dY[M×N] over M = ctx.rows rows (db stays with the built-in bias_grad kernel)',
  },
});
