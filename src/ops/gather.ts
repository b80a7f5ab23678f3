// gather: one batch of training (or evaluation) rows from the resident
// uint8 dataset, through the epoch's order, scaled to [0, 1]; also writes
// the batch's labels. The first op of every plan. Its WebGPU dispatch binds
// the dataset the env offers (GpuEnv.dataset): the backend builds it once
// per dataset (gatherDispatches), since the dataset buffers change while the
// op does not, and has none to offer among the graph's other dispatches.
// The bench instance brings its own small dataset (random bytes, a
// shuffled order, a batch that starts inside it). gather_f32 is the same op
// on float32 features: the record, the wasm call, the dispatch's bindings,
// the bench dataset and the custom contract shown below are both ops'.

import { defineOp, NO_OPTIMIZER, type CustomContract, type GpuDataset, type GpuDispatch, type GpuEnv, type OpInstance, type OpRecordBase, type RandomFloats, type WasmSpec } from './types.js';

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

/** The identity order of `count` examples, shuffled by one draw of `count` randoms (a bench dataset's epoch order). */
export function shuffledOrder(count: number, random: RandomFloats): Uint32Array {
  const order = Uint32Array.from({ length: count }, (_, i) => i);
  const u = random(count);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(((u[i]! + 1) / 2) * (i + 1)) % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** A gather of features and labels from the resident dataset: gather (bytes) and gather_f32 (float32). */
type FeatureGatherOp = OpRecordBase & { x: string; features: number };

/** The wasm record and call of a feature gather: (x, features, labels) words; images, labels and order from the step loop. */
export function featureGatherWasm<T extends FeatureGatherOp>(code: number, fn: string): WasmSpec<T> {
  return {
    code,
    fn,
    module: './gather',
    fields: [['x', 'ptr'], ['features', 'i32'], ['labels', 'ptr']],
    params: [['images', 'usize'], ['labels', 'usize'], ['order', 'usize'], ['offset', 'i32'], ['rows', 'i32'], ['features', 'i32'], ['x', 'usize'], ['labelsOut', 'usize']],
    args: 'gImages, gLabels, gOrder, start, rows, {features}, {x}, {labels}',
    encode: (op, L) => [L.ptr(op.x), op.features, L.labels],
  };
}

/** The WebGPU dispatch of a feature gather's `kernel` over (groupsX(F), B) workgroups, bound to the env's dataset. */
export function featureGatherDispatches(kernel: string, groupsX: (features: number) => number) {
  return async (op: FeatureGatherOp, env: GpuEnv): Promise<GpuDispatch[]> => {
    const d = env.dataset?.();
    if (!d) return []; // bound per dataset by the backend (gatherDispatches)
    const F = op.features;
    const shard = shardConstants(d, env.custom !== null, kernel);
    const c = { F, ORDERED: d.order !== null };
    const b = [d.images, d.labels, d.order ?? env.range(null), env.range(op.x), env.labels()];
    if (env.custom) return [await env.custom(d.label, c, b, env.B, F)];
    return [await env.dispatch(kernel, d.label, { ...c, ...shard }, b, [groupsX(F), env.B])];
  };
}

/**
 * A feature gather's bench instance at M rows: `count` examples (features
 * `images`, label bytes `labels`) in an order shuffled by the next draw of
 * `random`; the batch is order[M + 1 …], so neither the order nor the start
 * is the identity.
 */
export function featureGatherInstance<T extends FeatureGatherOp>(op: T, M: number, count: number, images: Uint8Array, labels: Uint8Array, random: RandomFloats): OpInstance<T> {
  return {
    op, rows: M, inputs: {}, outputs: { x: M * op.features, [LABELS_BUFFER]: M },
    dataset: { images, labels, order: shuffledOrder(count, random), start: M + 1 }, step: 0, seed: 0, optimizer: NO_OPTIMIZER,
  };
}

/** A feature gather's custom-kernel contract but what it computes. */
export const FEATURE_GATHER_CONTRACT: Omit<CustomContract, 'computes'> = {
  bindings: [{ name: 'images', access: 'read' }, { name: 'labels', access: 'read' }, { name: 'order', access: 'read' }, { name: 'x', access: 'rw' }, { name: 'y', access: 'rw' }],
  overrides: ['F', 'ORDERED'],
  output: ([M, F]) => [M!, F!],
  outputNames: ['M', 'F'],
};

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
  wasm: featureGatherWasm(1, 'gather'),
  webgpu: {
    kernels: { gather: ['read', 'read', 'read', 'rw', 'rw'] },
    dispatches: featureGatherDispatches('gather', (F) => Math.ceil(Math.ceil(F / 4) / 64)),
  },
  bench: {
    shape: 'M,F',
    dims: (op, B) => [B, op.features],
    fromMKN: ([M, K]) => [M, K], // the input of a first dense layer M×K×N
    // Reads: M·F pixel bytes, M order entries and M label bytes; writes M·F floats and M u32 labels.
    work: ([M, F]) => ({ flops: M! * F!, bytes: 5 * M! * F! + 9 * M!, unit: 'GB/s' }),
    instance: ([M, F], random) => {
      const count = 2 * M! + 3;
      const byte = (v: number) => Math.min(255, Math.floor((v + 1) * 128));
      const images = Uint8Array.from(random(count * F!), byte);
      const labels = Uint8Array.from(random(count), byte);
      return featureGatherInstance<GatherOp>({ kind: 'gather', layer: 'bench', x: 'x', features: F! }, M!, count, images, labels, random);
    },
  },
  custom: {
    ...FEATURE_GATHER_CONTRACT,
    computes: 'x[r·F + j] = f32(byte j of example e) · f32(1/255), y[r] = label of e, for r < ctx.rows, where e = order[ctx.offset + r] if ORDERED, else ctx.offset + r; images and labels are bytes packed 4 per u32, little-endian',
  },
});
