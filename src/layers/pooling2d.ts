// max_pooling2d and average_pooling2d: Keras MaxPooling2D / AveragePooling2D,
// channels_last; strides default to pool_size. No parameters. Their
// backward ops route dY to the window's maximum (first in row-major order,
// as TensorFlow) or spread it over the window's valid elements.
//
// A max pool of a ReLU's output passes the ReLU on: its output is > 0
// exactly where the maximum's position is, so the layer above may fold the
// mask (output > 0) into its dX (conv2d_backward_input / dense_backward_input
// reluOut), and the gradient max_pool2d_backward routes is then already
// masked at every position it reaches (every other position gets 0): the
// ReLU below skips its relu_backward (reluApplied), the same numbers for one
// pass over the pool's small output instead of one over its input.

import type { Pooling2dLayerSpec } from '../config/types.js';
import { pair, SILENT, spatialInput, spatialWindow } from './spatial.js';
import type { InferContext, LayerDef } from './types.js';

function geometry(spec: Pooling2dLayerSpec, hwc: [number, number, number], ctx: InferContext) {
  const k = pair(spec.pool_size, 2);
  const s = spec.strides === undefined ? k : pair(spec.strides, 1);
  return spatialWindow(spec.type, hwc, k, s, [1, 1], spec.padding ?? 'valid', ctx);
}

function poolingLayer(type: Pooling2dLayerSpec['type'], op: 'max_pool2d' | 'average_pool2d'): LayerDef<Pooling2dLayerSpec> {
  return {
    type,
    infer(spec, [input], ctx) {
      const hwc = spatialInput(type, input!, ctx);
      const g = geometry(spec, hwc, ctx);
      return { outputShape: [g.outH, g.outW, hwc[2]], params: [] };
    },
    lower(spec, info, [x], g) {
      const hwc = x!.shape as [number, number, number];
      const geo = { ...geometry(spec, hwc, SILENT), channels: hwc[2] };
      const features = geo.outH * geo.outW * hwc[2];
      const y = g.activation(`${info.name}/out`, features);
      g.forward({ kind: op, layer: info.name, x: x!.buffer, y, ...geo } as never);
      const passesRelu = op === 'max_pool2d' && x!.reluOutput;
      return {
        output: { ...x!, buffer: y, shape: [geo.outH, geo.outW, hwc[2]], features, reluOutput: passesRelu },
        backward(dOut) {
          if (!x!.needsGrad) return [null];
          const dx = g.gradient(`grad:${x!.buffer}`, x!.features);
          g.backward({ kind: `${op}_backward`, layer: info.name, dy: dOut.buffer, x: x!.buffer, dx, ...geo } as never);
          return [{ buffer: dx, reluApplied: passesRelu && dOut.reluApplied }];
        },
      };
    },
  };
}

export const maxPooling2dLayer = poolingLayer('max_pooling2d', 'max_pool2d');
export const averagePooling2dLayer = poolingLayer('average_pooling2d', 'average_pool2d');
