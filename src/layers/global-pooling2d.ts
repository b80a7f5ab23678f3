// global_average_pooling2d and global_max_pooling2d: [h, w, c] → [c], the
// mean or the maximum over the spatial axes. No parameters.

import type { GlobalPooling2dLayerSpec } from '../config/types.js';
import { spatialInput } from './spatial.js';
import type { LayerDef } from './types.js';

function globalPoolingLayer(type: GlobalPooling2dLayerSpec['type'], op: 'global_average_pool2d' | 'global_max_pool2d'): LayerDef<GlobalPooling2dLayerSpec> {
  return {
    type,
    infer(_spec, [input], ctx) {
      const [, , c] = spatialInput(type, input!, ctx);
      return { outputShape: [c], params: [] };
    },
    lower(_spec, info, [x], g) {
      const [h, w, channels] = x!.shape as [number, number, number];
      const geo = { hw: h * w, channels };
      const y = g.activation(`${info.name}/out`, channels);
      g.forward({ kind: op, layer: info.name, x: x!.buffer, y, ...geo } as never);
      return {
        output: { ...x!, buffer: y, shape: [channels], features: channels, reluOutput: false },
        backward(dOut) {
          if (!x!.needsGrad) return [null];
          const dx = g.gradient(`grad:${x!.buffer}`, x!.features);
          g.backward({ kind: `${op}_backward`, layer: info.name, dy: dOut.buffer, x: x!.buffer, dx, ...geo } as never);
          return [{ buffer: dx, reluApplied: false }];
        },
      };
    },
  };
}

export const globalAveragePooling2dLayer = globalPoolingLayer('global_average_pooling2d', 'global_average_pool2d');
export const globalMaxPooling2dLayer = globalPoolingLayer('global_max_pooling2d', 'global_max_pool2d');
