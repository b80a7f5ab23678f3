// The layer registry: every layer type a model file may use, one file each.
// Shape inference (src/config/shapes.ts) and the graph compiler
// (src/runtime/graph.ts) look layers up here.

import type { LayerSpec } from '../config/types.js';
import { activationLayer } from './activation.js';
import { denseLayer } from './dense.js';
import { dropoutLayer } from './dropout.js';
import { flattenLayer } from './flatten.js';
import { conv2dLayer } from './conv2d.js';
import { averagePooling2dLayer, maxPooling2dLayer } from './pooling2d.js';
import { globalAveragePooling2dLayer, globalMaxPooling2dLayer } from './global-pooling2d.js';
import { reshapeLayer } from './reshape.js';
import { addLayer, averageLayer, concatenateLayer, multiplyLayer, subtractLayer } from './merge.js';
import { batchNormalizationLayer } from './batch-normalization.js';
import { embeddingLayer } from './embedding.js';
import { positionEmbeddingLayer } from './position-embedding.js';
import { multiHeadAttentionLayer } from './multi-head-attention.js';
import { layerNormalizationLayer } from './layer-normalization.js';
import type { LayerDef } from './types.js';

export const LAYERS: readonly LayerDef<never>[] = [
  flattenLayer, denseLayer, dropoutLayer, activationLayer,
  conv2dLayer, maxPooling2dLayer, averagePooling2dLayer, globalAveragePooling2dLayer, globalMaxPooling2dLayer, reshapeLayer,
  addLayer, subtractLayer, multiplyLayer, averageLayer, concatenateLayer,
  batchNormalizationLayer,
  embeddingLayer, positionEmbeddingLayer, multiHeadAttentionLayer, layerNormalizationLayer,
] as never;

const BY_TYPE = new Map<string, LayerDef>(LAYERS.map((l) => [l.type, l as unknown as LayerDef]));

export function layerDef(spec: LayerSpec): LayerDef {
  const d = BY_TYPE.get(spec.type);
  if (!d) throw new Error(`unknown layer type '${spec.type}'`);
  return d;
}
