// rmsprop: the fused RMSprop update (Keras 3 formulas), lr the step's rate:
//   v = ρ·v + (1−ρ)·g²
//   centred (mg given): mg = ρ·mg + (1−ρ)·g;  d = v − mg² + ε   else d = v + ε
//   inc = lr·g / √d
//   momentum (mom given): mom = μ·mom + inc; p −= mom     else p −= inc

import { fuseUpdates, updateDispatch } from './update-shared.js';
import { defineOp, f32Bits, type OpRecordBase, type RefEnv } from './types.js';

export interface RmspropOp extends OpRecordBase {
  kind: 'rmsprop'; param: string; grad: string; v: string; mom: string | null; mg: string | null; size: number;
  rho: number; momentum: number; epsilon: number;
}

export function rmsprop(
  p: Float32Array, g: Float32Array, v: Float32Array, mom: Float32Array | null, mg: Float32Array | null, n: number,
  lr: number, rho: number, momentum: number, epsilon: number,
): void {
  for (let i = 0; i < n; i++) {
    const gi = g[i]!;
    const vi = (v[i] = rho * v[i]! + (1 - rho) * gi * gi);
    let d = vi + epsilon;
    if (mg) {
      const mgi = (mg[i] = rho * mg[i]! + (1 - rho) * gi);
      d = vi - mgi * mgi + epsilon;
    }
    const inc = (lr * gi) / Math.sqrt(d);
    if (mom) p[i]! -= (mom[i] = momentum * mom[i]! + inc);
    else p[i]! -= inc;
  }
}

const BENCH_OPTIMIZER: RefEnv['optimizer'] = { learningRate: 1e-3, beta1: 0, beta2: 0, epsilon: 1e-7 };
const constants = (op: RmspropOp) => (count4: number) => ({
  COUNT4: count4, RHO: op.rho, RC: Math.fround(1 - Math.fround(op.rho)), MOMENTUM: op.momentum, EPS: op.epsilon,
  HAS_MOM: op.mom !== null, CENTERED: op.mg !== null,
});

export const rmspropOp = defineOp<RmspropOp>({
  kind: 'rmsprop',
  summary: 'fused RMSprop update (Keras 3: rho, momentum, centered)',
  buffers: (op) => ({ reads: [op.grad], writes: [op.param, op.v, ...(op.mom ? [op.mom] : []), ...(op.mg ? [op.mg] : [])] }),
  reference(op, e) {
    rmsprop(e.buf(op.param), e.buf(op.grad), e.buf(op.v), op.mom ? e.buf(op.mom) : null, op.mg ? e.buf(op.mg) : null, op.size,
      e.optimizer.learningRate, op.rho, op.momentum, op.epsilon);
  },
  wasm: {
    code: 72,
    fn: 'rmsprop',
    module: './optimizers',
    fields: [['p', 'ptr'], ['g', 'ptr'], ['v', 'ptr'], ['mom', 'ptr'], ['mg', 'ptr'], ['size', 'i32'], ['rho', 'f32'], ['momentum', 'f32'], ['epsilon', 'f32']],
    params: [['p', 'usize'], ['g', 'usize'], ['v', 'usize'], ['mom', 'usize'], ['mg', 'usize'], ['n', 'i32'], ['lr', 'f32'], ['rho', 'f32'], ['momentum', 'f32'], ['epsilon', 'f32']],
    args: '{p}, {g}, {v}, {mom}, {mg}, {size}, <f32>gLr, {rho}, {momentum}, {epsilon}',
    encode: (op, L) => [L.ptr(op.param), L.ptr(op.grad), L.ptr(op.v), L.ptr(op.mom), L.ptr(op.mg), op.size, f32Bits(op.rho), f32Bits(op.momentum), f32Bits(op.epsilon)],
  },
  webgpu: {
    kernels: { rmsprop: ['rw', 'read', 'rw', 'rw', 'rw'] },
    dispatches: (op, env) => updateDispatch(env, 'rmsprop', op.param, op.size, [op.param, op.grad, op.v, op.mom, op.mg], constants(op)),
    fuse: (ops, env) => fuseUpdates(env, 'rmsprop', ops.length,
      [ops.map((o) => o.param), ops.map((o) => o.grad), ops.map((o) => o.v), ops.map((o) => o.mom), ops.map((o) => o.mg)], constants(ops[0]!)),
  },
  bench: {
    shape: 'n',
    dims: (op) => [op.size],
    fromMKN: ([, K, N]) => [K * N],
    work: ([n]) => ({ flops: 14 * n!, bytes: 36 * n!, unit: 'GB/s' }),
    instance: ([n], random) => {
      // Centred: v must stay above mg², so d stays positive (as it does in training, v ≥ mg² by Jensen).
      const mg = random(n!, 0.01);
      return {
        op: { kind: 'rmsprop', layer: 'optimizer', param: 'p', grad: 'g', v: 'v', mom: 'mom', mg: 'mg', size: n!, rho: 0.9, momentum: 0.5, epsilon: 1e-7 },
        rows: 1,
        inputs: { p: random(n!), g: random(n!, 0.1), v: mg.map((x, i) => x * x + 0.001 * (1 + (i % 3))), mom: random(n!, 0.001), mg },
        outputs: { p: n!, v: n!, mom: n!, mg: n! },
        step: 6, seed: 1, optimizer: BENCH_OPTIMIZER, wholeVec4s: true,
      };
    },
  },
  custom: {
    bindings: [{ name: 'p', access: 'rw' }, { name: 'g', access: 'read' }, { name: 'v', access: 'rw' }, { name: 'mom', access: 'rw' }, { name: 'mg', access: 'rw' }],
    overrides: ['COUNT4', 'RHO', 'RC', 'MOMENTUM', 'EPS', 'HAS_MOM', 'CENTERED'],
    output: ([n]) => [1, n!],
    outputNames: ['1', 'n'],
    computes: 'the RMSprop update of COUNT4 vec4s of p, v (mom when HAS_MOM, mg when CENTERED) from g, with learning rate ctx.lr',
  },
});
