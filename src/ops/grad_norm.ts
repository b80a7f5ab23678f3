// grad_norm: the sum of squares of a gradient, for clipnorm (one per
// parameter) and global_clipnorm (every parameter adding into one sum):
//   out[0] = (accumulate ? out[0] : 0) + Σ g²
// The sum is f64 in the reference and in wasm; WebGPU sums in f32 per
// invocation, then across one workgroup (the order differs, not the value).

import { defineOp, NO_OPTIMIZER, type OpRecordBase } from './types.js';

export interface GradNormOp extends OpRecordBase { kind: 'grad_norm'; grad: string; out: string; size: number; accumulate: boolean }

export function gradSumSquares(g: Float32Array, out: Float32Array, n: number, accumulate: boolean): void {
  let s = accumulate ? out[0]! : 0;
  for (let i = 0; i < n; i++) s += g[i]! * g[i]!;
  out[0] = s;
}

export const gradNormOp = defineOp<GradNormOp>({
  kind: 'grad_norm',
  summary: 'sum of squares of a gradient into out[0] (added to it when accumulating: the global norm)',
  buffers: (op) => ({ reads: [op.grad, ...(op.accumulate ? [op.out] : [])], writes: [op.out] }),
  reference: (op, e) => gradSumSquares(e.buf(op.grad), e.buf(op.out), op.size, op.accumulate),
  wasm: {
    code: 74,
    fn: 'gradNorm',
    module: './gradients',
    fields: [['g', 'ptr'], ['out', 'ptr'], ['size', 'i32'], ['accumulate', 'i32']],
    params: [['g', 'usize'], ['out', 'usize'], ['n', 'i32'], ['accumulate', 'i32']],
    args: '{g}, {out}, {size}, {accumulate}',
    encode: (op, L) => [L.ptr(op.grad), L.ptr(op.out), op.size, op.accumulate ? 1 : 0],
  },
  webgpu: {
    kernels: { grad_norm: ['read', 'rw'] },
    async dispatches(op, env) {
      const c = { COUNT4: Math.ceil(op.size / 4), ACCUMULATE: op.accumulate };
      const b = [env.range(op.grad), env.range(op.out)];
      if (env.custom) return [await env.custom(op.out, c, b, 1, 1)];
      return [await env.dispatch('grad_norm', op.grad, c, b, [1, 1])];
    },
    // The global norm: every gradient of the grads arena in one sum (its padding is zero).
    async fuse(ops, env) {
      if (env.custom || ops.some((o) => o.out !== ops[0]!.out)) return null;
      const span = env.span(ops.map((o) => o.grad));
      if (!span) return null;
      const c = { COUNT4: (span.size ?? 0) / 16, ACCUMULATE: false };
      return [await env.dispatch('grad_norm', 'all gradients', c, [span, env.range(ops[0]!.out)], [1, 1])];
    },
  },
  bench: {
    shape: 'n',
    dims: (op) => [op.size],
    fromMKN: ([, K, N]) => [K * N],
    work: ([n]) => ({ flops: 2 * n!, bytes: 4 * n!, unit: 'GB/s' }),
    instance: ([n], random) => ({
      op: { kind: 'grad_norm', layer: 'optimizer', grad: 'g', out: 'out', size: n!, accumulate: true },
      rows: 1,
      inputs: { g: random(n!, 0.1), out: Float32Array.of(0.25) },
      outputs: { out: 1 },
      step: 0, seed: 1, optimizer: NO_OPTIMIZER, wholeVec4s: true,
    }),
  },
  custom: {
    bindings: [{ name: 'g', access: 'read' }, { name: 'out', access: 'rw' }],
    overrides: ['COUNT4', 'ACCUMULATE'],
    output: () => [1, 1],
    outputNames: ['1', '1'],
    computes: 'out[0] = (ACCUMULATE ? out[0] : 0) + the sum of squares of COUNT4 vec4s of g',
  },
});
