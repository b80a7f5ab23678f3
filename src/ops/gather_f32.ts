// gather_f32: one batch of rows from a resident float32 dataset (CSV
// features, float .npz arrays) through the epoch's order, copied as they are
// (any normalisation was applied on the host, with training statistics);
// also writes the batch's labels. The first op of a graph whose data is
// float32 (Graph.inputDtype), in place of gather. The dataset is held as
// bytes like every other (4 little-endian bytes per feature), so the
// backends upload and keep it exactly as they keep uint8 pixels.

import { defineOp, type OpRecordBase } from './types.js';
import { FEATURE_GATHER_CONTRACT, featureGatherDispatches, featureGatherInstance, featureGatherWasm, LABELS_BUFFER } from './gather.js';

export interface GatherF32Op extends OpRecordBase { kind: 'gather_f32'; x: string; features: number }

/** Row r of X is example order[offset + r] (features f32 values read from little-endian bytes); labelsOut[r] its label. */
export function gatherF32(
  images: Uint8Array, labels: Uint8Array, order: Uint32Array, offset: number, rows: number,
  features: number, X: Float32Array, labelsOut: Uint8Array | Uint32Array | Int32Array,
): void {
  const view = new DataView(images.buffer, images.byteOffset, images.byteLength);
  for (let r = 0; r < rows; r++) {
    const ex = order[offset + r]!;
    const src = ex * features * 4, dst = r * features;
    for (let j = 0; j < features; j++) X[dst + j] = view.getFloat32(src + 4 * j, true);
    labelsOut[r] = labels[ex]!;
  }
}

export const gatherF32Op = defineOp<GatherF32Op>({
  kind: 'gather_f32',
  summary: 'a batch of float32 dataset rows through the shuffled order, copied, and their labels',
  buffers: (op) => ({ reads: [], writes: [op.x, LABELS_BUFFER] }),
  reference(op, env) {
    const d = env.data;
    if (!d) throw new Error('gather_f32: no dataset rows for this batch');
    gatherF32(d.images, d.labels, d.order, d.start, env.rows, op.features, env.buf(op.x), env.labels);
  },
  wasm: featureGatherWasm(120, 'gatherF32'),
  webgpu: {
    kernels: { gather_f32: ['read', 'read', 'read', 'rw', 'rw'] },
    dispatches: featureGatherDispatches('gather_f32', (F) => Math.ceil(F / 64)),
  },
  bench: {
    shape: 'M,F',
    dims: (op, B) => [B, op.features],
    fromMKN: ([M, K]) => [M, K],
    // Reads: M·F floats, M order entries and M label bytes; writes M·F floats and M u32 labels.
    work: ([M, F]) => ({ flops: 0, bytes: 8 * M! * F! + 9 * M!, unit: 'GB/s' }),
    instance: ([M, F], random) => {
      const count = 2 * M! + 3;
      const values = Float32Array.from(random(count * F!), (v) => 3 * v);
      const images = new Uint8Array(values.buffer);
      const labels = Uint8Array.from(random(count), (v) => Math.min(255, Math.floor((v + 1) * 128)));
      return featureGatherInstance<GatherF32Op>({ kind: 'gather_f32', layer: 'bench', x: 'x', features: F! }, M!, count, images, labels, random);
    },
  },
  custom: {
    ...FEATURE_GATHER_CONTRACT,
    computes: 'x[r·F + j] = images[e·F + j] (f32), y[r] = label of e, for r < ctx.rows, where e = order[ctx.offset + r] if ORDERED, else ctx.offset + r; labels are bytes packed 4 per u32, little-endian',
  },
});
