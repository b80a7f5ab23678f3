// reg_penalty: a kernel regularizer's penalty added to the reported loss,
// as Keras adds the layers' losses to the loss it reports (in training and
// in evaluation):  lossSum += rows · (l1·Σ|p| + l2·Σp²)
// (lossSum is a sum over examples, so each batch's mean loss gains the
// penalty). It only reads the parameter: its gradient is grad_prep's.
// The sum is f64 in the reference and wasm; WebGPU sums in f32 in one
// workgroup and adds to the fixed-point (2^-24) loss accumulator.

import { defineOp, f32Bits, NO_OPTIMIZER, type OpRecordBase } from './types.js';

export interface RegPenaltyOp extends OpRecordBase { kind: 'reg_penalty'; param: string; size: number; l1: number; l2: number }

export function regPenalty(p: Float32Array, n: number, l1: number, l2: number): number {
  let a = 0, s = 0;
  for (let i = 0; i < n; i++) { a += Math.abs(p[i]!); s += p[i]! * p[i]!; }
  return l1 * a + l2 * s;
}

export const regPenaltyOp = defineOp<RegPenaltyOp>({
  kind: 'reg_penalty',
  summary: "a kernel_regularizer's penalty l1·Σ|p| + l2·Σp², times the batch's rows, added to the loss sum",
  buffers: (op) => ({ reads: [op.param], writes: [] }),
  reference: (op, e) => e.addMetrics(e.rows * regPenalty(e.buf(op.param), op.size, Math.fround(op.l1), Math.fround(op.l2)), 0, 0),
  wasm: {
    code: 76,
    fn: 'regPenalty',
    module: './gradients',
    fields: [['p', 'ptr'], ['size', 'i32'], ['l1', 'f32'], ['l2', 'f32']],
    params: [['p', 'usize'], ['n', 'i32'], ['l1', 'f32'], ['l2', 'f32'], ['rows', 'i32'], ['metrics', 'usize']],
    args: '{p}, {size}, {l1}, {l2}, rows, gMetrics',
    encode: (op, L) => [L.ptr(op.param), op.size, f32Bits(op.l1), f32Bits(op.l2)],
  },
  webgpu: {
    kernels: { reg_penalty: ['read', 'rw'] },
    async dispatches(op, env) {
      const c = { COUNT4: Math.ceil(op.size / 4), L1: op.l1, L2: op.l2 };
      const b = [env.range(op.param), env.metrics()];
      if (env.custom) return [await env.custom(op.param, c, b, 1, 1)];
      return [await env.dispatch('reg_penalty', op.param, c, b, [1, 1])];
    },
  },
  bench: {
    shape: 'n',
    dims: (op) => [op.size],
    fromMKN: ([, K, N]) => [K * N],
    work: ([n]) => ({ flops: 4 * n!, bytes: 4 * n!, unit: 'GB/s' }),
    instance: ([n], random) => ({
      op: { kind: 'reg_penalty', layer: 'optimizer', param: 'p', size: n!, l1: 0.01, l2: 0.05 },
      rows: 3,
      inputs: { p: random(n!) },
      outputs: {},
      step: 0, seed: 1, optimizer: NO_OPTIMIZER, wholeVec4s: true,
    }),
  },
  custom: {
    bindings: [{ name: 'p', access: 'read' }, { name: 'metrics', access: 'rw' }],
    overrides: ['COUNT4', 'L1', 'L2'],
    output: () => [1, 1],
    outputNames: ['1', '1'],
    computes: 'adds ctx.rows · (L1·Σ|p| + L2·Σp²) over COUNT4 vec4s to the loss sum in metrics (fixed point, 2^-24)',
  },
});
