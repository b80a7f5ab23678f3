// What the two softmax cross-entropy ops against class-id labels share
// (softmax_xent: sparse labels; categorical_crossentropy: one-hot labels
// with label smoothing): the per-row softmax statistics of the
// references, the webgpu dispatch (one workgroup reading logits and
// labels, writing dlogits in training and the metrics), the bench
// instance and the custom-kernel bindings.

import { NO_OPTIMIZER, type BenchSpec, type Constants, type CustomContract, type OpRecordBase, type WebGpuSpec } from './types.js';

interface LabelLossOp extends OpRecordBase { logits: string; dlogits: string | null; classes: number }

/** Row o…o+C−1 of logits: its maximum, the first position of it, and Σ exp(z − max) (in f64). */
export function rowSoftmaxStats(logits: Float32Array, o: number, C: number): { max: number; arg: number; sum: number } {
  let max = logits[o]!, arg = 0;
  for (let c = 1; c < C; c++) if (logits[o + c]! > max) { max = logits[o + c]!; arg = c; }
  let sum = 0;
  for (let c = 0; c < C; c++) sum += Math.exp(logits[o + c]! - max);
  return { max, arg, sum };
}

/** The webgpu spec: one dispatch of `kernel` with C, HAS_GRAD (dlogits written in training) and the op's own constants. */
export function labelLossWebgpu<T extends LabelLossOp>(kernel: string, constants: (op: T) => Constants, extraKernels: WebGpuSpec<T>['kernels'] = {}): WebGpuSpec<T> {
  return {
    kernels: { [kernel]: ['read', 'read', 'rw', 'rw'], ...extraKernels },
    async dispatches(op, env) {
      const grad = op.dlogits !== null && env.mode === 'train';
      const c = { C: op.classes, ...constants(op), HAS_GRAD: grad };
      const b = [env.range(op.logits), env.labels(), grad ? env.range(op.dlogits) : env.scratch(), env.metrics()];
      if (env.custom) return [await env.custom(env.mode, c, b, env.B, op.classes)];
      return [await env.dispatch(kernel, env.mode, c, b, [1, 1])];
    },
  };
}

/** The bench: M rows of C random logits, every other row right (so the count is exercised); `flopsPerLogit` for the work. */
export function labelLossBench<T extends LabelLossOp>(flopsPerLogit: number, op: (C: number) => T): BenchSpec<T> {
  return {
    shape: 'M,C',
    dims: (o, B) => [B, o.classes],
    fromMKN: ([M, , N]) => [M, N],
    work: ([M, C]) => ({ flops: flopsPerLogit * M! * C!, bytes: 4 * (2 * M! * C! + M!), unit: 'GB/s' }),
    instance([M, C], random) {
      const logits = random(M! * C!, 4);
      const labels = Uint32Array.from({ length: M! }, (_, i) => (i * 7 + 3) % C!);
      for (let i = 0; i < M!; i += 2) logits[i * C! + labels[i]!] = 9;
      return { op: op(C!), rows: M!, inputs: { logits }, outputs: { dlogits: M! * C! }, labels, step: 0, seed: 1, optimizer: NO_OPTIMIZER };
    },
  };
}

/** The custom-kernel contract: logits, labels, dlogits, metrics; overrides C, the op's own, HAS_GRAD. */
export function labelLossCustom(overrides: string[], computes: string): CustomContract {
  return {
    bindings: [{ name: 'logits', access: 'read' }, { name: 'labels', access: 'read' }, { name: 'dlogits', access: 'rw' }, { name: 'metrics', access: 'rw' }],
    overrides: ['C', ...overrides, 'HAS_GRAD'],
    output: ([M, C]) => [M!, C!],
    outputNames: ['M', 'C'],
    computes,
  };
}
