// gather: one batch of training (or evaluation) rows from the resident
// uint8 dataset, through the epoch's order, scaled to [0, 1]; also writes
// the batch's labels. The first op of every plan. Its WebGPU dispatch is
// bound per dataset by the backend (gatherDispatch), since the dataset
// buffers change while the op does not.

import { defineOp, type OpRecordBase } from './types.js';

export interface GatherOp extends OpRecordBase { kind: 'gather'; x: string; features: number }

/** The buffer name of the batch labels (u32 per row on the GPU, bytes in js). */
export const LABELS_BUFFER = 'labels';

/** The f32 factor that turns a pixel byte into [0, 1]: every backend multiplies by this exact value. */
export const PIXEL_SCALE = Math.fround(1 / 255);

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
    // Bound per dataset by the backend (see gatherDispatch in the webgpu backend).
    dispatches: async () => [],
  },
  bench: null,
  custom: null,
});
