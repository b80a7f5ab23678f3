// sgd: the fused SGD update of one parameter (Keras 3 formulas), with the
// step's learning rate lr (the schedule's, host-computed in f64; f32 in the
// kernels, from the wasm step loop and the WebGPU step context):
//   momentum μ > 0:  m = μ·m − lr·g;  p += nesterov ? μ·m − lr·g : m
//   μ = 0 (m null):  p −= lr·g

import { fuseUpdates, updateDispatch } from './update-shared.js';
import { defineOp, f32Bits, type OpRecordBase, type RefEnv } from './types.js';

export interface SgdOp extends OpRecordBase { kind: 'sgd'; param: string; grad: string; m: string | null; size: number; momentum: number; nesterov: boolean }

export function sgd(p: Float32Array, g: Float32Array, m: Float32Array | null, n: number, lr: number, momentum: number, nesterov: boolean): void {
  for (let i = 0; i < n; i++) {
    const gi = g[i]!;
    if (!m) { p[i]! -= gi * lr; continue; }
    const mi = (m[i] = -gi * lr + m[i]! * momentum);
    p[i]! += nesterov ? -gi * lr + mi * momentum : mi;
  }
}

const BENCH_OPTIMIZER: RefEnv['optimizer'] = { learningRate: 0.01, beta1: 0, beta2: 0, epsilon: 0 };
const constants = (op: SgdOp) => (count4: number) => ({ COUNT4: count4, MOMENTUM: op.momentum, NESTEROV: op.nesterov, HAS_M: op.m !== null });

export const sgdOp = defineOp<SgdOp>({
  kind: 'sgd',
  summary: 'fused SGD update of a parameter and its momentum (Keras 3: momentum, nesterov)',
  buffers: (op) => ({ reads: [op.grad], writes: [op.param, ...(op.m ? [op.m] : [])] }),
  reference(op, e) {
    sgd(e.buf(op.param), e.buf(op.grad), op.m ? e.buf(op.m) : null, op.size, e.optimizer.learningRate, op.momentum, op.nesterov);
  },
  wasm: {
    code: 70,
    fn: 'sgd',
    module: './optimizers',
    fields: [['p', 'ptr'], ['g', 'ptr'], ['m', 'ptr'], ['size', 'i32'], ['momentum', 'f32'], ['nesterov', 'i32']],
    params: [['p', 'usize'], ['g', 'usize'], ['m', 'usize'], ['n', 'i32'], ['lr', 'f32'], ['momentum', 'f32'], ['nesterov', 'i32']],
    args: '{p}, {g}, {m}, {size}, <f32>gLr, {momentum}, {nesterov}',
    encode: (op, L) => [L.ptr(op.param), L.ptr(op.grad), L.ptr(op.m), op.size, f32Bits(op.momentum), op.nesterov ? 1 : 0],
  },
  webgpu: {
    kernels: { sgd: ['rw', 'read', 'rw'] },
    dispatches: (op, env) => updateDispatch(env, 'sgd', op.param, op.size, [op.param, op.grad, op.m], constants(op)),
    fuse: (ops, env) => fuseUpdates(env, 'sgd', ops.length, [ops.map((o) => o.param), ops.map((o) => o.grad), ops.map((o) => o.m)], constants(ops[0]!)),
  },
  bench: {
    shape: 'n',
    dims: (op) => [op.size],
    fromMKN: ([, K, N]) => [K * N],
    work: ([n]) => ({ flops: 6 * n!, bytes: 20 * n!, unit: 'GB/s' }),
    instance: ([n], random) => ({
      op: { kind: 'sgd', layer: 'optimizer', param: 'p', grad: 'g', m: 'm', size: n!, momentum: 0.9, nesterov: true },
      rows: 1,
      inputs: { p: random(n!), g: random(n!, 0.1), m: random(n!, 0.01) },
      outputs: { p: n!, m: n! },
      step: 6, seed: 1, optimizer: BENCH_OPTIMIZER, wholeVec4s: true,
    }),
  },
  custom: {
    bindings: [{ name: 'p', access: 'rw' }, { name: 'g', access: 'read' }, { name: 'm', access: 'rw' }],
    overrides: ['COUNT4', 'MOMENTUM', 'NESTEROV', 'HAS_M'],
    output: ([n]) => [1, n!],
    outputNames: ['1', 'n'],
    computes: 'the SGD update of COUNT4 vec4s of p (and momentum m when HAS_M) from g, with learning rate ctx.lr',
  },
});
