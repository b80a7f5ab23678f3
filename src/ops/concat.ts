// concat: joins two tensors along one axis (the concatenate merge layer).
// Row-major, each example viewed as [outer, width]: the axis and everything
// after it are `wa` values of a and `wb` of b per outer index, so
//   y[r, o, 0:wa] = a[r, o, :],  y[r, o, wa:wa+wb] = b[r, o, :]
// for every row r and o < outer. n inputs chain n − 1 concats (concatenation
// is associative along one axis). Backward: split.

import { defineOp, grid1d, NO_OPTIMIZER, type OpRecordBase } from './types.js';

export interface ConcatOp extends OpRecordBase { kind: 'concat'; a: string; b: string; y: string; outer: number; wa: number; wb: number }

export function concat(A: Float32Array, B: Float32Array, Y: Float32Array, blocks: number, wa: number, wb: number): void {
  const w = wa + wb;
  for (let o = 0; o < blocks; o++) {
    for (let j = 0; j < wa; j++) Y[o * w + j] = A[o * wa + j]!;
    for (let j = 0; j < wb; j++) Y[o * w + wa + j] = B[o * wb + j]!;
  }
}

/** Bench dims [M, outer, wa, wb] from --shape M,K,N: outer 1, widths K and N. */
const concatCases = [[1, 1, 1, 1], [3, 5, 3, 2], [7, 2, 13, 6], [5, 1, 33, 17]] as const;

export const concatOp = defineOp<ConcatOp>({
  kind: 'concat',
  summary: 'y = [a, b] along one axis (concatenate merge)',
  buffers: (op) => ({ reads: [op.a, op.b], writes: [op.y] }),
  reference: (op, e) => concat(e.buf(op.a), e.buf(op.b), e.buf(op.y), e.rows * op.outer, op.wa, op.wb),
  wasm: {
    code: 44,
    fn: 'concat',
    module: './merge',
    fields: [['a', 'ptr'], ['b', 'ptr'], ['y', 'ptr'], ['outer', 'i32'], ['wa', 'i32'], ['wb', 'i32']],
    params: [['a', 'usize'], ['b', 'usize'], ['y', 'usize'], ['blocks', 'i32'], ['wa', 'i32'], ['wb', 'i32']],
    args: '{a}, {b}, {y}, rows * {outer}, {wa}, {wb}',
    encode: (op, L) => [L.ptr(op.a), L.ptr(op.b), L.ptr(op.y), op.outer, op.wa, op.wb],
  },
  webgpu: {
    kernels: { concat: ['read', 'read', 'rw'] },
    async dispatches(op, env) {
      const io = [env.range(op.a), env.range(op.b), env.range(op.y)];
      const c = { OUTER: op.outer, WA: op.wa, WB: op.wb };
      const F = op.outer * (op.wa + op.wb);
      if (env.custom) return [await env.custom(op.layer, c, io, env.B, F)];
      return [await env.dispatch('concat', op.layer, c, io, grid1d(env.B * F))];
    },
  },
  bench: {
    shape: 'M,outer,wa,wb',
    dims: (op, B) => [B, op.outer, op.wa, op.wb],
    fromMKN: ([M, K, N]) => [M, 1, K, N],
    work: ([M, O, A, B]) => ({ flops: 0, bytes: 8 * M! * O! * (A! + B!), unit: 'GB/s' }),
    cases: concatCases,
    instance: ([M, O, A, B], random) => ({
      op: { kind: 'concat', layer: 'bench', a: 'a', b: 'b', y: 'y', outer: O!, wa: A!, wb: B! },
      rows: M!, inputs: { a: random(M! * O! * A!), b: random(M! * O! * B!) }, outputs: { y: M! * O! * (A! + B!) },
      step: 0, seed: 1, optimizer: NO_OPTIMIZER,
    }),
  },
  custom: {
    bindings: [{ name: 'a', access: 'read' }, { name: 'b', access: 'read' }, { name: 'y', access: 'rw' }],
    overrides: ['OUTER', 'WA', 'WB'],
    output: ([M, O, A, B]) => [M!, O! * (A! + B!)],
    outputNames: ['M', 'outer·(wa+wb)'],
    computes: 'y[r, o, :] = [a[r, o, 0:WA], b[r, o, 0:WB]] for r < ctx.rows, o < OUTER',
  },
  gradient: {
    wrt: (op) => [op.a, op.b],
    backward: (op, grad) => ({
      ops: [{ kind: 'split', layer: op.layer, dy: grad(op.y), da: grad(op.a), db: grad(op.b), outer: op.outer, wa: op.wa, wb: op.wb } as OpRecordBase],
    }),
  },
});
