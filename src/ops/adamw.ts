// adamw: Adam with Keras's decoupled weight decay and/or AMSGrad, fused:
//   p −= p·(lr·wd)                                    (first, as Keras applies it)
//   m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//   amsgrad: vhat = max(vhat, v), and vhat replaces v below
//   p −= alpha·m / (√v + ε)
// alpha = adamStepSize(lr, t) (src/ops/adam.ts), lr the step's rate. The
// `adam` optimizer with amsgrad lowers to this op with weight_decay 0.

import { adamStepSize } from './adam.js';
import { fuseUpdates, updateDispatch } from './update-shared.js';
import { defineOp, f32Bits, type OpRecordBase, type RefEnv } from './types.js';

export interface AdamWOp extends OpRecordBase { kind: 'adamw'; param: string; grad: string; m: string; v: string; vhat: string | null; size: number; weightDecay: number }

export function adamw(
  p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, vhat: Float32Array | null, n: number,
  alpha: number, beta1: number, beta2: number, epsilon: number, lr: number, weightDecay: number,
): void {
  const b1c = 1 - beta1, b2c = 1 - beta2;
  const decay = Math.fround(Math.fround(lr) * Math.fround(weightDecay));
  for (let i = 0; i < n; i++) {
    const gi = g[i]!;
    const pi = p[i]! - p[i]! * decay;
    const mi = (m[i] = beta1 * m[i]! + b1c * gi);
    let vi = (v[i] = beta2 * v[i]! + b2c * gi * gi);
    if (vhat) vi = vhat[i] = Math.max(vhat[i]!, vi);
    p[i] = pi - (alpha * mi) / (Math.sqrt(vi) + epsilon);
  }
}

const BENCH_OPTIMIZER: RefEnv['optimizer'] = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
const constants = (op: AdamWOp, o: RefEnv['optimizer']) => (count4: number) => ({
  COUNT4: count4, B1: o.beta1, B2: o.beta2, B1C: Math.fround(1 - o.beta1), B2C: Math.fround(1 - o.beta2), EPS: o.epsilon,
  WD: op.weightDecay, AMSGRAD: op.vhat !== null,
});

export const adamwOp = defineOp<AdamWOp>({
  kind: 'adamw',
  summary: 'fused AdamW update (Keras decoupled weight decay; AMSGrad maximum of v when vhat is given)',
  buffers: (op) => ({ reads: [op.grad], writes: [op.param, op.m, op.v, ...(op.vhat ? [op.vhat] : [])] }),
  reference(op, e) {
    const o = e.optimizer;
    adamw(e.buf(op.param), e.buf(op.grad), e.buf(op.m), e.buf(op.v), op.vhat ? e.buf(op.vhat) : null, op.size,
      adamStepSize(o, e.step + 1), o.beta1, o.beta2, o.epsilon, o.learningRate, op.weightDecay);
  },
  wasm: {
    code: 71,
    fn: 'adamw',
    module: './optimizers',
    fields: [['p', 'ptr'], ['g', 'ptr'], ['m', 'ptr'], ['v', 'ptr'], ['vhat', 'ptr'], ['size', 'i32'], ['weightDecay', 'f32']],
    params: [['p', 'usize'], ['g', 'usize'], ['m', 'usize'], ['v', 'usize'], ['vhat', 'usize'], ['n', 'i32'], ['alpha', 'f64'], ['beta1', 'f64'], ['beta2', 'f64'], ['epsilon', 'f64'], ['lr', 'f32'], ['weightDecay', 'f32']],
    imports: [['adamStepSize', './adam']],
    args: '{p}, {g}, {m}, {v}, {vhat}, {size}, adamStepSize(gLr, gB1, gB2, <f64>(step + 1)), gB1, gB2, gEps, <f32>gLr, {weightDecay}',
    encode: (op, L) => [L.ptr(op.param), L.ptr(op.grad), L.ptr(op.m), L.ptr(op.v), L.ptr(op.vhat), op.size, f32Bits(op.weightDecay)],
  },
  webgpu: {
    kernels: { adamw: ['rw', 'read', 'rw', 'rw', 'rw'] },
    dispatches: (op, env) => updateDispatch(env, 'adamw', op.param, op.size, [op.param, op.grad, op.m, op.v, op.vhat], constants(op, env.optimizer)),
    fuse: (ops, env) => fuseUpdates(env, 'adamw', ops.length,
      [ops.map((o) => o.param), ops.map((o) => o.grad), ops.map((o) => o.m), ops.map((o) => o.v), ops.map((o) => o.vhat)], constants(ops[0]!, env.optimizer)),
  },
  bench: {
    shape: 'n',
    dims: (op) => [op.size],
    fromMKN: ([, K, N]) => [K * N],
    work: ([n]) => ({ flops: 15 * n!, bytes: 36 * n!, unit: 'GB/s' }),
    instance: ([n], random) => {
      const v = random(n!, 0.001).map(Math.abs);
      return {
        op: { kind: 'adamw', layer: 'optimizer', param: 'p', grad: 'g', m: 'm', v: 'v', vhat: 'vhat', size: n!, weightDecay: 0.004 },
        rows: 1,
        // vhat above v in some places and below in others, so both sides of the maximum are taken.
        inputs: { p: random(n!), g: random(n!, 0.1), m: random(n!, 0.01), v, vhat: v.map((x, i) => (i % 2 ? x * 2 : x / 2)) },
        outputs: { p: n!, m: n!, v: n!, vhat: n! },
        step: 6, seed: 1, optimizer: BENCH_OPTIMIZER, wholeVec4s: true,
      };
    },
  },
  custom: {
    bindings: [{ name: 'p', access: 'rw' }, { name: 'g', access: 'read' }, { name: 'm', access: 'rw' }, { name: 'v', access: 'rw' }, { name: 'vhat', access: 'rw' }],
    overrides: ['COUNT4', 'B1', 'B2', 'B1C', 'B2C', 'EPS', 'WD', 'AMSGRAD'],
    output: ([n]) => [1, n!],
    outputNames: ['1', 'n'],
    computes: 'the AdamW update of COUNT4 vec4s of p, m, v (and vhat when AMSGRAD) from g, with step size ctx.alpha and decay ctx.lr·WD',
  },
});
