// gather_targets: the batch's float targets (regression losses and one-hot
// labels) from the resident dataset's `targets` (example-major, `width`
// floats per example), through the epoch's order as gather reads pixels.
// Emitted after gather only when the loss reads targets. Like gather, its
// WebGPU dispatch binds the dataset the env offers (GpuEnv.dataset) and is
// built per dataset by the backend.

import { defineOp, NO_OPTIMIZER, type OpRecordBase } from './types.js';
import { shardConstants, shuffledOrder } from './gather.js';

export interface GatherTargetsOp extends OpRecordBase { kind: 'gather_targets'; targets: string; width: number }

/** The buffer name of the batch targets (`width` floats per row). */
export const TARGETS_BUFFER = 'targets';

/** Row r of out is row order[offset + r] of `targets` (width floats per example). */
export function gatherTargets(targets: Float32Array, order: Uint32Array, offset: number, rows: number, width: number, out: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const ex = order[offset + r]!;
    out.set(targets.subarray(ex * width, (ex + 1) * width), r * width);
  }
}

export const gatherTargetsOp = defineOp<GatherTargetsOp>({
  kind: 'gather_targets',
  summary: 'the batch rows of the dataset\'s float targets through the shuffled order',
  buffers: (op) => ({ reads: [], writes: [op.targets] }),
  reference(op, env) {
    const d = env.data;
    if (!d?.targets) throw new Error('gather_targets: the dataset of this batch has no targets');
    gatherTargets(d.targets, d.order, d.start, env.rows, op.width, env.buf(op.targets));
  },
  wasm: {
    code: 90,
    fn: 'gatherTargets',
    module: './gather',
    fields: [['targets', 'ptr'], ['width', 'i32']],
    params: [['targets', 'usize'], ['order', 'usize'], ['offset', 'i32'], ['rows', 'i32'], ['width', 'i32'], ['y', 'usize']],
    args: 'gTargets, gOrder, start, rows, {width}, {targets}',
    encode: (op, L) => [L.ptr(op.targets), op.width],
  },
  webgpu: {
    kernels: { gather_targets: ['read', 'read', 'rw'] },
    async dispatches(op, env) {
      const d = env.dataset?.();
      if (!d) return []; // bound per dataset by the backend
      if (!d.targets) throw new Error(`gather_targets: the ${d.label} dataset has no targets`);
      const shard = shardConstants(d, env.custom !== null, 'gather_targets');
      const c = { W: op.width, ORDERED: d.order !== null };
      const b = [d.targets, d.order ?? env.range(null), env.range(op.targets)];
      if (env.custom) return [await env.custom(d.label, c, b, env.B, op.width)];
      return [await env.dispatch('gather_targets', d.label, { ...c, ...shard }, b, [Math.ceil(op.width / 64), env.B])];
    },
  },
  bench: {
    shape: 'M,W',
    dims: (op, B) => [B, op.width],
    fromMKN: ([M, , N]) => [M, N], // the targets of a last dense layer M×K×N
    work: ([M, W]) => ({ flops: 0, bytes: 8 * M! * W! + 4 * M!, unit: 'GB/s' }),
    instance: ([M, W], random) => {
      // 2M + 3 examples in a shuffled order; the batch is order[M + 1 …].
      const count = 2 * M! + 3;
      const targets = random(count * W!);
      const order = shuffledOrder(count, random);
      const op: GatherTargetsOp = { kind: 'gather_targets', layer: 'bench', targets: TARGETS_BUFFER, width: W! };
      return {
        op, rows: M!, inputs: {}, outputs: { [TARGETS_BUFFER]: M! * W! },
        dataset: { images: new Uint8Array(count), labels: new Uint8Array(count), order, start: M! + 1, targets, targetWidth: W! },
        step: 0, seed: 0, optimizer: NO_OPTIMIZER,
      };
    },
  },
  custom: {
    bindings: [{ name: 'targets', access: 'read' }, { name: 'order', access: 'read' }, { name: 'y', access: 'rw' }],
    overrides: ['W', 'ORDERED'],
    output: ([M, W]) => [M!, W!],
    outputNames: ['M', 'W'],
    computes: 'y[r·W + j] = targets[e·W + j] for r < ctx.rows, j < W, where e = order[ctx.offset + r] if ORDERED, else ctx.offset + r',
  },
});
