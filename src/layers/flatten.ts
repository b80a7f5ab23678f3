// flatten: each example to one dimension. Row-major data, so the graph
// renames the buffer; no op, no parameters, the gradient passes through.

import type { FlattenLayerSpec } from '../config/types.js';
import { product, type LayerDef } from './types.js';

export const flattenLayer: LayerDef<FlattenLayerSpec> = {
  type: 'flatten',
  infer: (_spec, [input]) => ({ outputShape: [product(input!)], params: [] }),
  lower: (_spec, _info, [x]) => ({ output: { ...x!, shape: [x!.features] } }),
};
