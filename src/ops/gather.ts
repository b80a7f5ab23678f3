// gather: one batch of training (or evaluation) rows from the resident
// uint8 dataset, through the epoch's order, scaled to [0, 1]; also writes
// the batch's labels. The first op of every plan. Its WebGPU dispatch binds
// the dataset the env offers (GpuEnv.dataset): the backend builds it once
// per dataset (gatherDispatches), since the dataset buffers change while the
// op does not, and has none to offer among the graph's other dispatches.
// The bench instance brings its own small dataset (random bytes, a
// shuffled order, a batch that starts inside it).

import { defineOp, NO_OPTIMIZER, type GpuDataset, type OpRecordBase } from './types.js';

export interface GatherOp extends OpRecordBase { kind: 'gather'; x: string; features: number }

/** The buffer name of the batch labels (u32 per row on the GPU, bytes in js). */
export const LABELS_BUFFER = 'labels';

/** The f32 factor that turns a pixel byte into [0, 1]: every backend multiplies by this exact value. */
export const PIXEL_SCALE = Math.fround(1 / 255);

/**
 * The override constants that restrict a gather dispatch to one shard's
 * examples (none for a set in one shard: the kernel's defaults cover every
 * example). A user's kernel reads the whole set from one buffer, so a set
 * split into shards refuses it, in words.
 */
export function shardConstants(d: GpuDataset, custom: boolean, kind: string): Record<string, number> {
  const s = d.shard;
  if (!s || s.of === 1) return {};
  if (custom) {
    throw Object.assign(new Error(`a custom ${kind} kernel reads the dataset from one buffer, but the ${d.label} set is larger than one WebGPU storage binding and split into ${s.of} shards; leave ${kind} out of kernels:, train on fewer examples, or use the wasm backend`), { isUserError: true });
  }
  return { SHARD_FIRST: s.first, SHARD_COUNT: s.count };
}

/** Row r of X is example order[offset + r] scaled by PIXEL_SCALE; labelsOut[r] its label. */
export function gather(
  images: Uint8Array, labels: Uint8Array, order: Uint32Array, offset: number, rows: number,
  features: number, X: Float32Array, labelsOut: Uint8Array | Uint32Array | Int32Array,
): void {
  for (let r = 0; r < rows; r++) {
    const ex = order[offset + r]!;
    const src = ex * features, dst = r * features;
    for (let j = 0; j < features; j++) X[dst + j] = images[src + j]! * PIXEL_SCALE;
    labelsOut[r] = labels[ex]!;
  }
}

export const gatherOp = defineOp<GatherOp>({
  kind: 'gather',
  summary: 'a batch of dataset rows through the shuffled order, bytes scaled to [0, 1], and their labels',
  buffers: (op) => ({ reads: [], writes: [op.x, LABELS_BUFFER] }),
  reference(op, env) {
    const d = env.data;
    if (!d) throw new Error('gather: no dataset rows for this batch');
    gather(d.images, d.labels, d.order, d.start, env.rows, op.features, env.buf(op.x), env.labels);
  },
  wasm: {
    code: 1,
    fn: 'gather',
    module: './gather',
    fields: [['x', 'ptr'], ['features', 'i32'], ['labels', 'ptr']],
    params: [['images', 'usize'], ['labels', 'usize'], ['order', 'usize'], ['offset', 'i32'], ['rows', 'i32'], ['features', 'i32'], ['x', 'usize'], ['labelsOut', 'usize']],
    args: 'gImages, gLabels, gOrder, start, rows, {features}, {x}, {labels}',
    encode: (op, L) => [L.ptr(op.x), op.features, L.labels],
  },
  webgpu: {
    kernels: { gather: ['read', 'read', 'read', 'rw', 'rw'] },
    async dispatches(op, env) {
      const d = env.dataset?.();
      if (!d) return []; // bound per dataset by the backend (gatherDispatches)
      const F = op.features;
      const shard = shardConstants(d, env.custom !== null, 'gather');
      const c = { F, ORDERED: d.order !== null };
      const b = [d.images, d.labels, d.order ?? env.range(null), env.range(op.x), env.labels()];
      if (env.custom) return [await env.custom(d.label, c, b, env.B, F)];
      return [await env.dispatch('gather', d.label, { ...c, ...shard }, b, [Math.ceil(Math.ceil(F / 4) / 64), env.B])];
    },
  },
  bench: {
    shape: 'M,F',
    dims: (op, B) => [B, op.features],
    fromMKN: ([M, K]) => [M, K], // the input of a first dense layer M×K×N
    // Reads: M·F pixel bytes, M order entries and M label bytes; writes M·F floats and M u32 labels.
    work: ([M, F]) => ({ flops: M! * F!, bytes: 5 * M! * F! + 9 * M!, unit: 'GB/s' }),
    instance: ([M, F], random) => {
      // 2M + 3 examples in a shuffled order; the batch is order[M + 1 …], so neither the order nor the start is the identity.
      const count = 2 * M! + 3;
      const byte = (v: number) => Math.min(255, Math.floor((v + 1) * 128));
      const images = Uint8Array.from(random(count * F!), byte);
      const labels = Uint8Array.from(random(count), byte);
      const order = Uint32Array.from({ length: count }, (_, i) => i);
      const u = random(count);
      for (let i = count - 1; i > 0; i--) {
        const j = Math.floor(((u[i]! + 1) / 2) * (i + 1)) % (i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      const op: GatherOp = { kind: 'gather', layer: 'bench', x: 'x', features: F! };
      return {
        op, rows: M!, inputs: {}, outputs: { x: M! * F!, [LABELS_BUFFER]: M! },
        dataset: { images, labels, order, start: M! + 1 }, step: 0, seed: 0, optimizer: NO_OPTIMIZER,
      };
    },
  },
  custom: {
    bindings: [{ name: 'images', access: 'read' }, { name: 'labels', access: 'read' }, { name: 'order', access: 'read' }, { name: 'x', access: 'rw' }, { name: 'y', access: 'rw' }],
    overrides: ['F', 'ORDERED'],
    output: ([M, F]) => [M!, F!],
    outputNames: ['M', 'F'],
    computes: 'x[r·F + j] = f32(byte j of example e) · f32(1/255), y[r] = label of e, for r < ctx.rows, where e = order[ctx.offset + r] if ORDERED, else ctx.offset + r; images and labels are bytes packed 4 per u32, little-endian',
  },
});
