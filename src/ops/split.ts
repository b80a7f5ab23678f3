// split: the backward of concat. Each example of dy viewed as
// [outer, wa + wb] is cut into da [outer, wa] and db [outer, wb].

import { defineOp, grid1d, NO_OPTIMIZER, type OpRecordBase } from './types.js';

export interface SplitOp extends OpRecordBase { kind: 'split'; dy: string; da: string; db: string; outer: number; wa: number; wb: number }

export function split(DY: Float32Array, DA: Float32Array, DB: Float32Array, blocks: number, wa: number, wb: number): void {
  const w = wa + wb;
  for (let o = 0; o < blocks; o++) {
    for (let j = 0; j < wa; j++) DA[o * wa + j] = DY[o * w + j]!;
    for (let j = 0; j < wb; j++) DB[o * wb + j] = DY[o * w + wa + j]!;
  }
}

export const splitOp = defineOp<SplitOp>({
  kind: 'split',
  summary: 'da, db = the two parts of dy along one axis (concatenate backward)',
  buffers: (op) => ({ reads: [op.dy], writes: [op.da, op.db] }),
  reference: (op, e) => split(e.buf(op.dy), e.buf(op.da), e.buf(op.db), e.rows * op.outer, op.wa, op.wb),
  wasm: {
    code: 45,
    fn: 'split',
    module: './merge',
    fields: [['dy', 'ptr'], ['da', 'ptr'], ['db', 'ptr'], ['outer', 'i32'], ['wa', 'i32'], ['wb', 'i32']],
    params: [['dy', 'usize'], ['da', 'usize'], ['db', 'usize'], ['blocks', 'i32'], ['wa', 'i32'], ['wb', 'i32']],
    args: '{dy}, {da}, {db}, rows * {outer}, {wa}, {wb}',
    encode: (op, L) => [L.ptr(op.dy), L.ptr(op.da), L.ptr(op.db), op.outer, op.wa, op.wb],
  },
  webgpu: {
    kernels: { split: ['read', 'rw', 'rw'] },
    async dispatches(op, env) {
      const io = [env.range(op.dy), env.range(op.da), env.range(op.db)];
      const c = { OUTER: op.outer, WA: op.wa, WB: op.wb };
      const F = op.outer * (op.wa + op.wb);
      if (env.custom) return [await env.custom(op.layer, c, io, env.B, F)];
      return [await env.dispatch('split', op.layer, c, io, grid1d(env.B * F))];
    },
  },
  bench: {
    shape: 'M,outer,wa,wb',
    dims: (op, B) => [B, op.outer, op.wa, op.wb],
    fromMKN: ([M, K, N]) => [M, 1, K, N],
    work: ([M, O, A, B]) => ({ flops: 0, bytes: 8 * M! * O! * (A! + B!), unit: 'GB/s' }),
    cases: [[1, 1, 1, 1], [3, 5, 3, 2], [7, 2, 13, 6], [5, 1, 33, 17]],
    instance: ([M, O, A, B], random) => ({
      op: { kind: 'split', layer: 'bench', dy: 'dy', da: 'da', db: 'db', outer: O!, wa: A!, wb: B! },
      rows: M!, inputs: { dy: random(M! * O! * (A! + B!)) }, outputs: { da: M! * O! * A!, db: M! * O! * B! },
      step: 0, seed: 1, optimizer: NO_OPTIMIZER,
    }),
  },
  custom: {
    bindings: [{ name: 'dy', access: 'read' }, { name: 'da', access: 'rw' }, { name: 'db', access: 'rw' }],
    overrides: ['OUTER', 'WA', 'WB'],
    output: ([M, O, A, B]) => [M!, O! * (A! + B!)],
    outputNames: ['M', 'outer·(wa+wb)'],
    computes: 'da[r, o, :] = dy[r, o, 0:WA], db[r, o, :] = dy[r, o, WA:WA+WB] for r < ctx.rows, o < OUTER',
  },
});
