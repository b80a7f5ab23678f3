// relu_backward: dX = dY where the ReLU output Y > 0, else 0. Runs when the
// ReLU could not be fused into the next layer's dense_backward_input (e.g.
// a dropout in between). The forward ReLU is fused into dense_forward.

import { defineOp, grid1d, NO_OPTIMIZER, type OpRecordBase } from './types.js';

export interface ReluBackwardOp extends OpRecordBase { kind: 'relu_backward'; dy: string; y: string; dx: string; features: number }

/** dX = dY where Y > 0, else 0, over n values. */
export function reluBackward(dY: Float32Array, Y: Float32Array, dX: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) dX[i] = Y[i]! > 0 ? dY[i]! : 0;
}

export const reluBackwardOp = defineOp<ReluBackwardOp>({
  kind: 'relu_backward',
  summary: 'dX = dY where the ReLU output is > 0 (when not fused)',
  buffers: (op) => ({ reads: [op.dy, op.y], writes: [op.dx] }),
  reference: (op, e) => reluBackward(e.buf(op.dy), e.buf(op.y), e.buf(op.dx), e.rows * op.features),
  wasm: {
    code: 7,
    fn: 'reluBackward',
    module: './elementwise',
    fields: [['dy', 'ptr'], ['y', 'ptr'], ['dx', 'ptr'], ['features', 'i32']],
    params: [['dy', 'usize'], ['y', 'usize'], ['dx', 'usize'], ['n', 'i32']],
    args: '{dy}, {y}, {dx}, rows * {features}',
    encode: (op, L) => [L.ptr(op.dy), L.ptr(op.y), L.ptr(op.dx), op.features],
  },
  webgpu: {
    kernels: { relu_backward: ['read', 'read', 'rw'] },
    async dispatches(op, env) {
      const io = [env.range(op.dy), env.range(op.y), env.range(op.dx)];
      const c = { FEATURES: op.features };
      if (env.custom) return [await env.custom(op.layer, c, io, env.B, op.features)];
      return [await env.dispatch('relu_backward', op.layer, c, io, grid1d(env.B * op.features))];
    },
  },
  bench: {
    shape: 'M,F',
    dims: (op, B) => [B, op.features],
    fromMKN: ([M, , N]) => [M, N],
    work: ([M, F]) => ({ flops: M! * F!, bytes: 12 * M! * F!, unit: 'GB/s' }),
    instance: ([M, F], random) => ({
      op: { kind: 'relu_backward', layer: 'bench', dy: 'dy', y: 'y', dx: 'dx', features: F! },
      rows: M!, inputs: { dy: random(M! * F!), y: random(M! * F!).map((v) => (v < 0 ? 0 : v)) }, outputs: { dx: M! * F! },
      step: 0, seed: 1, optimizer: NO_OPTIMIZER,
    }),
  },
  custom: {
    bindings: [{ name: 'dy', access: 'read' }, { name: 'y', access: 'read' }, { name: 'dx', access: 'rw' }],
    overrides: ['FEATURES'],
    output: ([M, F]) => [M!, F!],
    outputNames: ['M', 'F'],
    computes: 'dX[M×F] = dY where Y > 0, else 0; M = ctx.rows, F = FEATURES',
  },
});
