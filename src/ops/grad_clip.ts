// grad_clip: a gradient scaled to at most `clipnorm` in L2 norm (Keras's
// clipnorm per parameter, and clip_by_global_norm with the global sum):
//   g = g · clipnorm / max(√norm[0], clipnorm)
// with norm[0] the sum of squares grad_norm wrote (a zero sum scales by 1).

import { defineOp, f32Bits, NO_OPTIMIZER, type OpRecordBase } from './types.js';
import { updateGrid } from './update-shared.js';

export interface GradClipOp extends OpRecordBase { kind: 'grad_clip'; grad: string; norm: string; size: number; clipnorm: number }

export function gradClip(g: Float32Array, norm: Float32Array, n: number, clipnorm: number): void {
  const scale = clipnorm / Math.max(Math.sqrt(norm[0]!), clipnorm);
  for (let i = 0; i < n; i++) g[i] = g[i]! * scale;
}

export const gradClipOp = defineOp<GradClipOp>({
  kind: 'grad_clip',
  summary: 'a gradient scaled by clipnorm / max(√(sum of squares), clipnorm), in place (clipnorm, global_clipnorm)',
  buffers: (op) => ({ reads: [op.grad, op.norm], writes: [op.grad] }),
  reference: (op, e) => gradClip(e.buf(op.grad), e.buf(op.norm), op.size, op.clipnorm),
  wasm: {
    code: 75,
    fn: 'gradClip',
    module: './gradients',
    fields: [['g', 'ptr'], ['norm', 'ptr'], ['size', 'i32'], ['clipnorm', 'f32']],
    params: [['g', 'usize'], ['norm', 'usize'], ['n', 'i32'], ['clipnorm', 'f32']],
    args: '{g}, {norm}, {size}, {clipnorm}',
    encode: (op, L) => [L.ptr(op.grad), L.ptr(op.norm), op.size, f32Bits(op.clipnorm)],
  },
  webgpu: {
    kernels: { grad_clip: ['rw', 'read'] },
    async dispatches(op, env) {
      const count4 = Math.ceil(op.size / 4);
      const c = { COUNT4: count4, CLIPNORM: op.clipnorm };
      const b = [env.range(op.grad), env.range(op.norm)];
      if (env.custom) return [await env.custom(op.grad, c, b, 1, op.size)];
      return [await env.dispatch('grad_clip', op.grad, c, b, updateGrid(count4))];
    },
    // Under global_clipnorm every gradient takes the same scale: one dispatch over the grads arena.
    async fuse(ops, env) {
      if (env.custom || ops.some((o) => o.norm !== ops[0]!.norm || o.clipnorm !== ops[0]!.clipnorm)) return null;
      const span = env.span(ops.map((o) => o.grad));
      if (!span) return null;
      const count4 = (span.size ?? 0) / 16;
      return [await env.dispatch('grad_clip', 'all gradients', { COUNT4: count4, CLIPNORM: ops[0]!.clipnorm }, [span, env.range(ops[0]!.norm)], updateGrid(count4))];
    },
  },
  bench: {
    shape: 'n',
    dims: (op) => [op.size],
    fromMKN: ([, K, N]) => [K * N],
    work: ([n]) => ({ flops: n!, bytes: 8 * n!, unit: 'GB/s' }),
    instance: ([n], random) => {
      const g = random(n!, 0.1);
      // The norm of g itself, so the clip (at half of it) scales every value by 1/2.
      const sum = g.reduce((a, x) => a + x * x, 0);
      return {
        op: { kind: 'grad_clip', layer: 'optimizer', grad: 'g', norm: 'norm', size: n!, clipnorm: Math.sqrt(sum) / 2 },
        rows: 1,
        inputs: { g, norm: Float32Array.of(sum) },
        outputs: { g: n! },
        step: 0, seed: 1, optimizer: NO_OPTIMIZER, wholeVec4s: true,
      };
    },
  },
  custom: {
    bindings: [{ name: 'g', access: 'rw' }, { name: 'norm', access: 'read' }],
    overrides: ['COUNT4', 'CLIPNORM'],
    output: ([n]) => [1, n!],
    outputNames: ['1', 'n'],
    computes: 'g ·= CLIPNORM / max(√norm[0], CLIPNORM) over COUNT4 vec4s',
  },
});
