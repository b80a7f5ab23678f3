// dense_backward_input: dX[M×K] = dY[M×N]·Wᵀ, with the ReLU backward of the
// layer below fused in (dX = 0 where that layer's ReLU output was <= 0).
// The wasm kernel reads a transposed copy of W, which the plan refreshes
// after each Adam update (the `transpose` helper record).

import { matmulDispatch, noSequence, seqConstant } from './matmul-grid.js';
import { defineOp, NO_OPTIMIZER, present, type OpRecordBase } from './types.js';

export interface DenseBackwardInputOp extends OpRecordBase {
  kind: 'dense_backward_input'; dy: string; w: string; dx: string; reluOut: string | null; k: number; n: number;
  /** Positions per example: M = rows · seq rows. Default 1. */
  seq?: number;
}

/** dX = dY·Wᵀ [M×K]; with `reluOut` (the ReLU output that was this layer's input), dX is zero where reluOut <= 0. */
export function denseBackwardInput(
  dY: Float32Array, W: Float32Array, dX: Float32Array, reluOut: Float32Array | null,
  M: number, K: number, N: number,
): void {
  for (let i = 0; i < M; i++) {
    const yo = i * N, xo = i * K;
    for (let k = 0; k < K; k++) {
      if (reluOut && !(reluOut[xo + k]! > 0)) { dX[xo + k] = 0; continue; }
      const wo = k * N;
      let s = 0;
      for (let j = 0; j < N; j++) s += dY[yo + j]! * W[wo + j]!;
      dX[xo + k] = s;
    }
  }
}

export const denseBackwardInputOp = defineOp<DenseBackwardInputOp>({
  kind: 'dense_backward_input',
  summary: 'dX = dY·Wᵀ, optional fused ReLU mask',
  buffers: (op) => ({ reads: present(op.dy, op.w, op.reluOut), writes: [op.dx] }),
  reference: (op, e) => denseBackwardInput(e.buf(op.dy), e.buf(op.w), e.buf(op.dx), op.reluOut ? e.buf(op.reluOut) : null, e.rows * (op.seq ?? 1), op.k, op.n),
  wasm: {
    code: 6,
    fn: 'denseBackwardInput',
    module: './dense',
    fields: [['dy', 'ptr'], ['wt', 'ptr'], ['dx', 'ptr'], ['reluOut', 'ptr'], ['k', 'i32'], ['n', 'i32'], ['seq', 'i32']],
    params: [['dy', 'usize'], ['wt', 'usize'], ['dx', 'usize'], ['reluOut', 'usize'], ['M', 'i32'], ['K', 'i32'], ['N', 'i32']],
    args: '{dy}, {wt}, {dx}, {reluOut}, rows * {seq}, {k}, {n}',
    encode: (op, L) => [L.ptr(op.dy), L.transposed(op.w), L.ptr(op.dx), L.ptr(op.reluOut), op.k, op.n, op.seq ?? 1],
  },
  webgpu: {
    kernels: {
      dense_backward_input: ['read', 'read', 'read', 'rw'],
      dense_backward_input_vec4: ['read', 'read', 'read', 'rw'],
    },
    async dispatches(op, env) {
      const io = [env.range(op.dy), env.range(op.w), env.range(op.reluOut), env.range(op.dx)];
      const base = { K: op.k, N: op.n, RELU_MASK: !!op.reluOut, ...seqConstant(op.seq) };
      if (env.custom) return [await env.custom(op.layer, noSequence(op, base), io, env.B, op.k)];
      const kernel = op.k % 4 === 0 && op.n % 4 === 0 ? 'dense_backward_input_vec4' : 'dense_backward_input';
      const { constants, grid } = matmulDispatch(kernel, env.B * (op.seq ?? 1), op.k, op.n);
      return [await env.dispatch(kernel, op.layer, { ...base, ...constants }, io, grid)];
    },
  },
  bench: {
    shape: 'M,K,N',
    dims: (op, B) => [B, op.k, op.n],
    fromMKN: ([M, K, N]) => [M, K, N],
    work: ([M, K, N]) => ({ flops: 2 * M! * K! * N!, bytes: 4 * (M! * N! + K! * N! + 2 * M! * K!), unit: 'GFLOP/s' }),
    instance: ([M, K, N], random) => ({
      op: { kind: 'dense_backward_input', layer: 'bench', dy: 'dy', w: 'w', dx: 'dx', reluOut: 'relu_out', k: K!, n: N! },
      rows: M!,
      inputs: { dy: random(M! * N!), w: random(K! * N!, 0.2), relu_out: random(M! * K!).map((v) => (v < 0 ? 0 : v)) },
      outputs: { dx: M! * K! },
      step: 0, seed: 1, optimizer: NO_OPTIMIZER,
    }),
  },
  custom: {
    bindings: [{ name: 'dy', access: 'read' }, { name: 'w', access: 'read' }, { name: 'relu_out', access: 'read' }, { name: 'dx', access: 'rw' }],
    overrides: ['K', 'N', 'RELU_MASK'],
    output: ([M, K]) => [M!, K!],
    outputNames: ['M', 'K'],
    computes: 'dX[M×K] = dY[M×N]·Wᵀ, zero where relu_out <= 0 (when RELU_MASK); M = ctx.rows',
  },
});
