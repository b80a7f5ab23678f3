// The elementwise merges of two tensors of one shape, one factory for the
// three ops, so each op's file only states its formula and codes:
//   add       y = a + b
//   subtract  y = a − b
//   multiply  y = a · b
// Record {a, b, y, features}: `features` values per row, rows · features in all.
// A merge layer of n inputs chains n − 1 of them (src/layers/merge.ts).
// Kernels: kernels/as/merge.ts (one export per op, SIMD) and
// kernels/wgsl/merge_binary.wgsl (override OP = the op's `id`).

import { defineOp, grid1d, NO_OPTIMIZER, type OpDef, type OpRecordBase } from './types.js';

export interface BinaryOp<K extends string = string> extends OpRecordBase { kind: K; a: string; b: string; y: string; features: number }

export interface BinaryFn {
  /** OP of merge_binary.wgsl. */
  id: number;
  code: number;
  wasmFn: string;
  formula: string;
  f(a: number, b: number): number;
  /** The backward ops: dLoss/da and dLoss/db from dy (gradient checks; layers lower their own). */
  backward(op: BinaryOp, grad: (name: string) => string): OpRecordBase[];
}

export function binaryOp<K extends string>(kind: K, fn: BinaryFn): OpDef<BinaryOp<K>> {
  return defineOp<BinaryOp<K>>({
    kind,
    summary: `merge y = ${fn.formula} elementwise`,
    buffers: (op) => ({ reads: [op.a, op.b], writes: [op.y] }),
    reference(op, e) {
      const a = e.buf(op.a), b = e.buf(op.b), y = e.buf(op.y), n = e.rows * op.features;
      for (let i = 0; i < n; i++) y[i] = fn.f(a[i]!, b[i]!);
    },
    wasm: {
      code: fn.code,
      fn: fn.wasmFn,
      module: './merge',
      fields: [['a', 'ptr'], ['b', 'ptr'], ['y', 'ptr'], ['features', 'i32']],
      params: [['a', 'usize'], ['b', 'usize'], ['y', 'usize'], ['n', 'i32']],
      args: '{a}, {b}, {y}, rows * {features}',
      encode: (op, L) => [L.ptr(op.a), L.ptr(op.b), L.ptr(op.y), op.features],
    },
    webgpu: {
      kernels: { merge_binary: ['read', 'read', 'rw'] },
      async dispatches(op, env) {
        const io = [env.range(op.a), env.range(op.b), env.range(op.y)];
        const c = { FEATURES: op.features };
        if (env.custom) return [await env.custom(op.layer, c, io, env.B, op.features)];
        return [await env.dispatch('merge_binary', `${op.layer} ${kind}`, { ...c, OP: fn.id }, io, grid1d(env.B * op.features))];
      },
    },
    bench: {
      shape: 'M,F',
      dims: (op, B) => [B, op.features],
      fromMKN: ([M, , N]) => [M, N],
      work: ([M, F]) => ({ flops: M! * F!, bytes: 12 * M! * F!, unit: 'GB/s' }),
      instance: ([M, F], random) => ({
        op: { kind, layer: 'bench', a: 'a', b: 'b', y: 'y', features: F! },
        rows: M!, inputs: { a: random(M! * F!), b: random(M! * F!) }, outputs: { y: M! * F! },
        step: 0, seed: 1, optimizer: NO_OPTIMIZER,
      }),
    },
    custom: {
      bindings: [{ name: 'a', access: 'read' }, { name: 'b', access: 'read' }, { name: 'y', access: 'rw' }],
      overrides: ['FEATURES'],
      output: ([M, F]) => [M!, F!],
      outputNames: ['M', 'F'],
      computes: `y[M×F] = ${fn.formula} elementwise; M = ctx.rows, F = FEATURES`,
    },
    gradient: {
      wrt: (op) => [op.a, op.b],
      backward: (op, grad) => ({ ops: fn.backward(op, grad) }),
    },
  });
}
