// adam: the fused Adam update of one parameter and its moments (Keras
// semantics):  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;
//              p −= alpha·m / (√v + ε)
// with alpha = lr·√(1−β2^t)/(1−β1^t) for t = step + 1, computed on the host
// in f64 once per step and given to every backend as one f32, so they agree.

import { defineOp, type OpRecordBase, type RefEnv } from './types.js';

export interface AdamOp extends OpRecordBase { kind: 'adam'; param: string; grad: string; m: string; v: string; size: number }

export interface AdamHyper { learningRate: number; beta1: number; beta2: number; epsilon: number }

/** The Adam step size at step t (1-based), Keras's bias correction folded into the learning rate. */
export function adamStepSize(h: AdamHyper, t: number): number {
  return (h.learningRate * Math.sqrt(1 - Math.pow(h.beta2, t))) / (1 - Math.pow(h.beta1, t));
}

export function adam(
  p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, n: number,
  alpha: number, beta1: number, beta2: number, epsilon: number,
): void {
  const b1c = 1 - beta1, b2c = 1 - beta2;
  for (let i = 0; i < n; i++) {
    const gi = g[i]!;
    const mi = (m[i] = beta1 * m[i]! + b1c * gi);
    const vi = (v[i] = beta2 * v[i]! + b2c * gi * gi);
    p[i]! -= (alpha * mi) / (Math.sqrt(vi) + epsilon);
  }
}

const KERAS_ADAM: RefEnv['optimizer'] = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

export const adamOp = defineOp<AdamOp>({
  kind: 'adam',
  summary: 'fused Adam update of a parameter and its moments (Keras defaults)',
  buffers: (op) => ({ reads: [op.grad], writes: [op.param, op.m, op.v] }),
  reference(op, e) {
    const o = e.optimizer;
    adam(e.buf(op.param), e.buf(op.grad), e.buf(op.m), e.buf(op.v), op.size, adamStepSize(o, e.step + 1), o.beta1, o.beta2, o.epsilon);
  },
  wasm: {
    code: 8,
    fn: 'adam',
    module: './adam',
    fields: [['p', 'ptr'], ['g', 'ptr'], ['m', 'ptr'], ['v', 'ptr'], ['size', 'i32']],
    params: [['p', 'usize'], ['g', 'usize'], ['m', 'usize'], ['v', 'usize'], ['n', 'i32'], ['alpha', 'f64'], ['beta1', 'f64'], ['beta2', 'f64'], ['epsilon', 'f64']],
    imports: [['adamStepSize', './adam']],
    args: '{p}, {g}, {m}, {v}, {size}, adamStepSize(gLr, gB1, gB2, <f64>(step + 1)), gB1, gB2, gEps',
    encode: (op, L) => [L.ptr(op.param), L.ptr(op.grad), L.ptr(op.m), L.ptr(op.v), op.size],
  },
  webgpu: {
    kernels: { adam: ['rw', 'read', 'rw', 'rw'] },
    async dispatches(op, env) {
      // Parameter buffers are padded to a multiple of 4 floats (zeros, which the update keeps at zero).
      const count4 = Math.ceil(op.size / 4);
      const o = env.optimizer;
      const c = { COUNT4: count4, B1: o.beta1, B2: o.beta2, B1C: Math.fround(1 - o.beta1), B2C: Math.fround(1 - o.beta2), EPS: o.epsilon };
      const b = [env.range(op.param), env.range(op.grad), env.range(op.m), env.range(op.v)];
      if (env.custom) return [await env.custom(op.param, c, b, 1, op.size)];
      return [await env.dispatch('adam', op.param, c, b, [Math.min(64, Math.ceil(count4 / 64)), 1])];
    },
    // Every parameter in one dispatch when the backend keeps them in arenas
    // (params, grads, m and v with one layout, padding zero): on llvmpipe a
    // dispatch costs far more than the few extra floats of padding.
    async fuse(ops, env) {
      if (env.custom || ops.length < 2) return null;
      const spans = [ops.map((o) => o.param), ops.map((o) => o.grad), ops.map((o) => o.m), ops.map((o) => o.v)].map((names) => env.span(names));
      if (spans.some((s) => s === null)) return null;
      const floats = (spans[0]!.size ?? 0) / 4;
      if (spans.some((s) => s!.size !== spans[0]!.size) || floats % 4 !== 0) return null;
      const count4 = floats / 4;
      const o = env.optimizer;
      const c = { COUNT4: count4, B1: o.beta1, B2: o.beta2, B1C: Math.fround(1 - o.beta1), B2C: Math.fround(1 - o.beta2), EPS: o.epsilon };
      return [await env.dispatch('adam', 'all parameters', c, spans as GPUBufferBinding[], [Math.min(64, Math.ceil(count4 / 64)), 1])];
    },
  },
  bench: {
    shape: 'n',
    dims: (op) => [op.size],
    fromMKN: ([, K, N]) => [K * N],
    work: ([n]) => ({ flops: 12 * n!, bytes: 28 * n!, unit: 'GB/s' }),
    instance: ([n], random) => ({
      op: { kind: 'adam', layer: 'optimizer', param: 'p', grad: 'g', m: 'm', v: 'v', size: n! },
      rows: 1,
      inputs: { p: random(n!), g: random(n!, 0.1), m: random(n!, 0.01), v: random(n!, 0.001).map(Math.abs) },
      outputs: { p: n!, m: n!, v: n! },
      step: 6, seed: 1, optimizer: KERAS_ADAM, wholeVec4s: true,
    }),
  },
  custom: {
    bindings: [{ name: 'p', access: 'rw' }, { name: 'g', access: 'read' }, { name: 'm', access: 'rw' }, { name: 'v', access: 'rw' }],
    overrides: ['COUNT4', 'B1', 'B2', 'B1C', 'B2C', 'EPS'],
    output: ([n]) => [1, n!],
    outputNames: ['1', 'n'],
    computes: 'the Adam update of COUNT4 vec4s of p, m, v from g, with step size ctx.alpha',
  },
});
