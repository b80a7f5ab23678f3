// position_embedding: a learned embedding per position, added to the input
// (KerasHub's PositionEmbedding followed by the add the model makes of it).
//   position_embedding           y[r, t, d] = x[r, t, d] + p[t, d]
//   position_embedding_backward  dp[t, d] = Σ_r dy[r, t, d], r ascending (overwritten)
// dx = dy needs no op: the layer passes dy on. Each example is T·D floats;
// p is a parameter [T, D].

import { defineOp, grid1d, NO_OPTIMIZER, type OpRecordBase } from './types.js';

export interface PositionEmbeddingOp extends OpRecordBase { kind: 'position_embedding'; x: string; p: string; y: string; positions: number; dim: number }
export interface PositionEmbeddingBackwardOp extends OpRecordBase { kind: 'position_embedding_backward'; dy: string; dp: string; positions: number; dim: number }

/** y = x + p for each of M examples of F = T·D floats. */
export function positionEmbeddingForward(x: Float32Array, p: Float32Array, y: Float32Array, M: number, F: number): void {
  for (let r = 0; r < M; r++) for (let j = 0; j < F; j++) y[r * F + j] = x[r * F + j]! + p[j]!;
}

/** dp = Σ_r dy[r, :] over M examples of F floats, in f32, r ascending. */
export function positionEmbeddingBackward(dy: Float32Array, dp: Float32Array, M: number, F: number): void {
  dp.fill(0, 0, F);
  for (let r = 0; r < M; r++) for (let j = 0; j < F; j++) dp[j]! += dy[r * F + j]!;
}

const shape = {
  shape: 'M,T,D',
  fromMKN: ([M, K, N]: readonly [number, number, number]) => [M, K, N],
  cases: [[1, 1, 1], [3, 5, 7], [2, 9, 33], [7, 3, 8], [1, 17, 3]] as const,
};

export const positionEmbeddingOp = defineOp<PositionEmbeddingOp>({
  kind: 'position_embedding',
  summary: 'y = x + p[t] per position (learned position embedding)',
  buffers: (op) => ({ reads: [op.x, op.p], writes: [op.y] }),
  reference: (op, e) => positionEmbeddingForward(e.buf(op.x), e.buf(op.p), e.buf(op.y), e.rows, op.positions * op.dim),
  wasm: {
    code: 13,
    fn: 'positionEmbedding',
    module: './sequence',
    fields: [['x', 'ptr'], ['p', 'ptr'], ['y', 'ptr'], ['positions', 'i32'], ['dim', 'i32']],
    params: [['x', 'usize'], ['p', 'usize'], ['y', 'usize'], ['M', 'i32'], ['F', 'i32']],
    args: '{x}, {p}, {y}, rows, {positions} * {dim}',
    encode: (op, L) => [L.ptr(op.x), L.ptr(op.p), L.ptr(op.y), op.positions, op.dim],
  },
  webgpu: {
    kernels: { position_embedding: ['read', 'read', 'rw'] },
    async dispatches(op, env) {
      const io = [env.range(op.x), env.range(op.p), env.range(op.y)];
      const c = { T: op.positions, D: op.dim };
      if (env.custom) return [await env.custom(op.layer, c, io, env.B * op.positions, op.dim)];
      return [await env.dispatch('position_embedding', op.layer, c, io, grid1d(env.B * op.positions * op.dim))];
    },
  },
  bench: {
    ...shape,
    dims: (op, B) => [B, op.positions, op.dim],
    work: ([M, T, D]) => ({ flops: M! * T! * D!, bytes: 4 * (2 * M! * T! * D! + T! * D!), unit: 'GB/s' }),
    instance: ([M, T, D], random) => ({
      op: { kind: 'position_embedding', layer: 'bench', x: 'x', p: 'p', y: 'y', positions: T!, dim: D! },
      rows: M!, inputs: { x: random(M! * T! * D!), p: random(T! * D!) }, outputs: { y: M! * T! * D! },
      step: 0, seed: 1, optimizer: NO_OPTIMIZER,
    }),
  },
  custom: {
    bindings: [{ name: 'x', access: 'read' }, { name: 'p', access: 'read' }, { name: 'y', access: 'rw' }],
    overrides: ['T', 'D'],
    output: ([M, T, D]) => [M! * T!, D!],
    outputNames: ['M·T', 'D'],
    computes: 'y[(r·T + t)·D + d] = x[(r·T + t)·D + d] + p[t·D + d] for r < ctx.rows',
  },
  gradient: {
    wrt: (op) => [op.x, op.p],
    backward: (op, grad) => ({
      ops: [
        { kind: 'position_embedding_backward', layer: op.layer, dy: grad(op.y), dp: grad(op.p), positions: op.positions, dim: op.dim } as PositionEmbeddingBackwardOp,
        // dx = dy: a copy here only so the check has it in its own buffer (the layer passes dy on).
        { kind: 'scale', layer: op.layer, x: grad(op.y), y: grad(op.x), features: op.positions * op.dim, s: 1 } as OpRecordBase,
      ],
    }),
  },
});

export const positionEmbeddingBackwardOp = defineOp<PositionEmbeddingBackwardOp>({
  kind: 'position_embedding_backward',
  summary: 'dp = Σ over the batch of dy (position embedding backward)',
  buffers: (op) => ({ reads: [op.dy], writes: [op.dp] }),
  reference: (op, e) => positionEmbeddingBackward(e.buf(op.dy), e.buf(op.dp), e.rows, op.positions * op.dim),
  wasm: {
    code: 14,
    fn: 'positionEmbeddingBackward',
    module: './sequence',
    fields: [['dy', 'ptr'], ['dp', 'ptr'], ['positions', 'i32'], ['dim', 'i32']],
    params: [['dy', 'usize'], ['dp', 'usize'], ['M', 'i32'], ['F', 'i32']],
    args: '{dy}, {dp}, rows, {positions} * {dim}',
    encode: (op, L) => [L.ptr(op.dy), L.ptr(op.dp), op.positions, op.dim],
  },
  webgpu: {
    kernels: { position_embedding_backward: ['read', 'rw'] },
    async dispatches(op, env) {
      const io = [env.range(op.dy), env.range(op.dp)];
      const c = { T: op.positions, D: op.dim };
      if (env.custom) return [await env.custom(op.layer, c, io, op.positions, op.dim)];
      return [await env.dispatch('position_embedding_backward', op.layer, c, io, grid1d(op.positions * op.dim))];
    },
  },
  bench: {
    ...shape,
    dims: (op, B) => [B, op.positions, op.dim],
    work: ([M, T, D]) => ({ flops: M! * T! * D!, bytes: 4 * (M! * T! * D! + T! * D!), unit: 'GB/s' }),
    instance: ([M, T, D], random) => ({
      op: { kind: 'position_embedding_backward', layer: 'bench', dy: 'dy', dp: 'dp', positions: T!, dim: D! },
      rows: M!, inputs: { dy: random(M! * T! * D!) }, outputs: { dp: T! * D! },
      step: 0, seed: 1, optimizer: NO_OPTIMIZER,
    }),
  },
  custom: {
    bindings: [{ name: 'dy', access: 'read' }, { name: 'dp', access: 'rw' }],
    overrides: ['T', 'D'],
    output: ([, T, D]) => [T!, D!],
    outputNames: ['T', 'D'],
    computes: 'dp[t·D + d] = Σ_r dy[(r·T + t)·D + d] over r < ctx.rows, r ascending (overwritten)',
  },
});
