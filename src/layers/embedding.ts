// embedding (Keras Embedding): integer token ids [T] to vectors [T, output_dim],
// rows of a learned table [input_dim, output_dim] (saved as
// `embedding_1/embeddings`, initialised uniformly in ±0.05 as Keras's
// default "uniform" initializer). The ids are data, so no gradient flows
// to them; the table's gradient is a deterministic scatter-add.

import type { EmbeddingLayerSpec } from '../config/types.js';
import { fmtShape, type LayerDef } from './types.js';

export const embeddingLayer: LayerDef<EmbeddingLayerSpec> = {
  type: 'embedding',
  infer(spec, [input], ctx) {
    if (input!.length !== 1) {
      ctx.error({ path: ctx.path, message: `embedding layer needs a sequence of token ids [T] but gets shape ${fmtShape(input!)}`, hint: 'put it first, on a text dataset (format: text)' });
    }
    const T = input![0] ?? 1, V = spec.input_dim, D = spec.output_dim;
    return { outputShape: [T, D], params: [{ name: 'embeddings', shape: [V, D], init: 'uniform', fanIn: V, fanOut: D }] };
  },
  lower(spec, info, [ids], g) {
    const T = ids!.shape[0]!, V = spec.input_dim, D = spec.output_dim;
    const table = g.param(info.name, { name: 'embeddings', shape: [V, D], init: 'uniform', fanIn: V, fanOut: D });
    const y = g.activation(`${info.name}/out`, T * D);
    g.forward({ kind: 'embedding', layer: info.name, ids: ids!.buffer, table, y, positions: T, dim: D, vocab: V } as never);
    return {
      output: { buffer: y, shape: [T, D], features: T * D, needsGrad: true, reluOutput: false },
      backward(dOut) {
        g.backward({ kind: 'embedding_backward', layer: info.name, ids: ids!.buffer, dy: dOut.buffer, dtable: `${table}:grad`, positions: T, dim: D, vocab: V } as never);
        return [null];
      },
    };
  },
};
