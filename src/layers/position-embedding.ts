// position_embedding: a learned vector per position, added to the input
// [T, D] (position t gets row t of `position_embedding_1/embeddings`,
// [sequence_length, D], Glorot-uniform as KerasHub's PositionEmbedding).
// Unlike KerasHub's layer, which returns the position vectors for the user
// to add, this one returns input + positions, so a token-and-position
// embedding is two layers and no add. The gradient passes to the input
// unchanged.

import type { PositionEmbeddingLayerSpec } from '../config/types.js';
import { fmtShape, type LayerDef } from './types.js';

export const positionEmbeddingLayer: LayerDef<PositionEmbeddingLayerSpec> = {
  type: 'position_embedding',
  infer(spec, [input], ctx) {
    if (input!.length !== 2) {
      ctx.error({ path: ctx.path, message: `position_embedding layer needs a sequence [T, features] but gets shape ${fmtShape(input!)}`, hint: 'put it after an embedding layer' });
    } else if (input![0]! > spec.sequence_length) {
      ctx.error({ path: [...ctx.path, 'sequence_length'], message: `sequence_length ${spec.sequence_length} is shorter than the input's ${input![0]} positions`, hint: `use sequence_length: ${input![0]}` });
    }
    const D = input![1] ?? 1;
    return { outputShape: [...input!], params: [{ name: 'embeddings', shape: [spec.sequence_length, D], init: 'glorot_uniform', fanIn: spec.sequence_length, fanOut: D }] };
  },
  lower(spec, info, [x], g) {
    const [T, D] = x!.shape as [number, number];
    const L = spec.sequence_length;
    const p = g.param(info.name, { name: 'embeddings', shape: [L, D], init: 'glorot_uniform', fanIn: L, fanOut: D });
    const y = g.activation(`${info.name}/out`, T * D);
    g.forward({ kind: 'position_embedding', layer: info.name, x: x!.buffer, p, y, positions: T, dim: D } as never);
    return {
      output: { ...x!, buffer: y, reluOutput: false },
      backward(dOut) {
        // Rows T… of the table (when sequence_length > T) are never used: their gradient stays 0.
        g.backward({ kind: 'position_embedding_backward', layer: info.name, dy: dOut.buffer, dp: `${p}:grad`, positions: T, dim: D } as never);
        return [x!.needsGrad ? { buffer: dOut.buffer, reluApplied: false } : null];
      },
    };
  },
};
