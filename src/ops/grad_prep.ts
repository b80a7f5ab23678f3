// grad_prep: a parameter's gradient made ready for the optimizer, in place,
// in one pass (Keras order: the regularizer's gradient is part of the
// loss's; clipping comes after):
//   g = g + l1·sign(p) + 2·l2·p          (kernel_regularizer: L1L2)
//   g = clamp(g, −clipvalue, clipvalue)  (clipvalue > 0; 0: no clipping)
// Emitted only for a parameter with a regularizer or under clipvalue.

import { defineOp, f32Bits, NO_OPTIMIZER, type OpRecordBase } from './types.js';
import { updateGrid } from './update-shared.js';

export interface GradPrepOp extends OpRecordBase { kind: 'grad_prep'; param: string; grad: string; size: number; l1: number; l2: number; clipvalue: number }

export function gradPrep(p: Float32Array, g: Float32Array, n: number, l1: number, l2: number, clipvalue: number): void {
  for (let i = 0; i < n; i++) {
    let gi = g[i]! + l1 * Math.sign(p[i]!) + 2 * l2 * p[i]!;
    if (clipvalue > 0) gi = Math.min(clipvalue, Math.max(-clipvalue, gi));
    g[i] = gi;
  }
}

const constants = (op: GradPrepOp, count4: number) => ({ COUNT4: count4, L1: op.l1, L2X2: Math.fround(2 * Math.fround(op.l2)), CLIP: op.clipvalue });

export const gradPrepOp = defineOp<GradPrepOp>({
  kind: 'grad_prep',
  summary: "a gradient plus its kernel_regularizer's (l1·sign(p) + 2·l2·p), clipped to ±clipvalue, in place",
  buffers: (op) => ({ reads: [op.param, op.grad], writes: [op.grad] }),
  reference: (op, e) => gradPrep(e.buf(op.param), e.buf(op.grad), op.size, op.l1, op.l2, op.clipvalue),
  wasm: {
    code: 73,
    fn: 'gradPrep',
    module: './gradients',
    fields: [['p', 'ptr'], ['g', 'ptr'], ['size', 'i32'], ['l1', 'f32'], ['l2', 'f32'], ['clipvalue', 'f32']],
    params: [['p', 'usize'], ['g', 'usize'], ['n', 'i32'], ['l1', 'f32'], ['l2', 'f32'], ['clipvalue', 'f32']],
    args: '{p}, {g}, {size}, {l1}, {l2}, {clipvalue}',
    encode: (op, L) => [L.ptr(op.param), L.ptr(op.grad), op.size, f32Bits(op.l1), f32Bits(op.l2), f32Bits(op.clipvalue)],
  },
  webgpu: {
    kernels: { grad_prep: ['read', 'rw'] },
    async dispatches(op, env) {
      const count4 = Math.ceil(op.size / 4);
      const b = [env.range(op.param), env.range(op.grad)];
      if (env.custom) return [await env.custom(op.grad, constants(op, count4), b, 1, op.size)];
      return [await env.dispatch('grad_prep', op.grad, constants(op, count4), b, updateGrid(count4))];
    },
  },
  bench: {
    shape: 'n',
    dims: (op) => [op.size],
    fromMKN: ([, K, N]) => [K * N],
    work: ([n]) => ({ flops: 6 * n!, bytes: 12 * n!, unit: 'GB/s' }),
    instance: ([n], random) => ({
      // clipvalue inside the gradients' range, so some values are clipped and some not.
      op: { kind: 'grad_prep', layer: 'optimizer', param: 'p', grad: 'g', size: n!, l1: 0.01, l2: 0.05, clipvalue: 0.05 },
      rows: 1,
      inputs: { p: random(n!), g: random(n!, 0.1) },
      outputs: { g: n! },
      step: 0, seed: 1, optimizer: NO_OPTIMIZER, wholeVec4s: true,
    }),
  },
  custom: {
    bindings: [{ name: 'p', access: 'read' }, { name: 'g', access: 'rw' }],
    overrides: ['COUNT4', 'L1', 'L2X2', 'CLIP'],
    output: ([n]) => [1, n!],
    outputNames: ['1', 'n'],
    computes: 'g += L1·sign(p) + L2X2·p, then clamped to ±CLIP when CLIP > 0, over COUNT4 vec4s',
  },
});
