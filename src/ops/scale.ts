// scale: y = s · x elementwise. The backward of average (s = 1/n) and of
// subtract's second input (s = −1), and a copy where a gradient must land
// in its own buffer (s = 1).

import { defineOp, f32Bits, grid1d, NO_OPTIMIZER, type OpRecordBase } from './types.js';

export interface ScaleOp extends OpRecordBase { kind: 'scale'; x: string; y: string; features: number; s: number }

export const scaleOp = defineOp<ScaleOp>({
  kind: 'scale',
  summary: 'y = s · x elementwise (average and subtract backward)',
  buffers: (op) => ({ reads: [op.x], writes: [op.y] }),
  reference(op, e) {
    const x = e.buf(op.x), y = e.buf(op.y), s = Math.fround(op.s), n = e.rows * op.features;
    for (let i = 0; i < n; i++) y[i] = x[i]! * s;
  },
  wasm: {
    code: 43,
    fn: 'scale',
    module: './merge',
    fields: [['x', 'ptr'], ['y', 'ptr'], ['features', 'i32'], ['s', 'f32']],
    params: [['x', 'usize'], ['y', 'usize'], ['n', 'i32'], ['s', 'f32']],
    args: '{x}, {y}, rows * {features}, {s}',
    encode: (op, L) => [L.ptr(op.x), L.ptr(op.y), op.features, f32Bits(op.s)],
  },
  webgpu: {
    kernels: { scale: ['read', 'rw'] },
    async dispatches(op, env) {
      const io = [env.range(op.x), env.range(op.y)];
      const c = { FEATURES: op.features, S: op.s };
      if (env.custom) return [await env.custom(op.layer, c, io, env.B, op.features)];
      return [await env.dispatch('scale', op.layer, c, io, grid1d(env.B * op.features))];
    },
  },
  bench: {
    shape: 'M,F',
    dims: (op, B) => [B, op.features],
    fromMKN: ([M, , N]) => [M, N],
    work: ([M, F]) => ({ flops: M! * F!, bytes: 8 * M! * F!, unit: 'GB/s' }),
    instance: ([M, F], random) => ({
      op: { kind: 'scale', layer: 'bench', x: 'x', y: 'y', features: F!, s: -1 / 3 },
      rows: M!, inputs: { x: random(M! * F!) }, outputs: { y: M! * F! },
      step: 0, seed: 1, optimizer: NO_OPTIMIZER,
    }),
  },
  custom: {
    bindings: [{ name: 'x', access: 'read' }, { name: 'y', access: 'rw' }],
    overrides: ['FEATURES', 'S'],
    output: ([M, F]) => [M!, F!],
    outputNames: ['M', 'F'],
    computes: 'y[M×F] = f32(S) · x elementwise; M = ctx.rows, F = FEATURES',
  },
  gradient: {
    wrt: (op) => [op.x],
    backward: (op, grad) => ({ ops: [{ ...op, x: grad(op.y), y: grad(op.x) } as ScaleOp] }),
  },
});
