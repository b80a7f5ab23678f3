// relu: the standalone ReLU forward, y = max(x, 0) (NaN and −0 give +0), for
// an activation layer whose ReLU cannot be fused into dense_forward's
// epilogue. Its backward is the existing relu_backward (reads y).

import { activationOp, type ActivationFn, type ActivationOp } from './activation.js';
import type { OpDef, OpRecordBase } from './types.js';

export const RELU: ActivationFn = {
  id: 0,
  code: 20,
  // kernels/as/elementwise.ts already has the SIMD ReLU; the backward export is
  // relu_backward's own (activationOp makes no backward op).
  wasmFns: ['relu', 'reluBackward'],
  wasmModule: './elementwise',
  hasAlpha: false,
  f: (x) => (x > 0 ? x : 0),
  df: (_x, y) => (y > 0 ? 1 : 0),
  formula: 'max(x, 0)',
  derivative: '(y > 0)',
  flops: [1, 1],
};

export const reluOp: OpDef<ActivationOp<'relu'>> = {
  ...activationOp('relu', RELU),
  gradient: {
    wrt: (op) => [op.x],
    backward: (op, grad) => ({
      ops: [{ kind: 'relu_backward', layer: op.layer, dy: grad(op.y), y: op.y, dx: grad(op.x), features: op.features } as OpRecordBase],
    }),
  },
};
