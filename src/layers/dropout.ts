// dropout: inverted dropout in training (rate, a mask from the counter RNG
// keyed by the layer's stream and the step), identity at inference. Keeps
// its input's shape; no parameters.

import type { DropoutLayerSpec } from '../config/types.js';
import type { LayerDef } from './types.js';

export const dropoutLayer: LayerDef<DropoutLayerSpec> = {
  type: 'dropout',
  infer: (_spec, [input]) => ({ outputShape: [...input!], params: [] }),
  lower(spec, info, [x], g) {
    const features = x!.features;
    const stream = g.stream(info.index);
    const y = g.activation(`${info.name}/out`, features);
    g.trainOnly({ kind: 'dropout', layer: info.name, x: x!.buffer, y, features, rate: spec.rate, stream } as never, x!.buffer, y);
    return {
      output: { ...x!, buffer: y, reluOutput: false },
      backward(dOut) {
        if (!x!.needsGrad) return [null]; // nothing below has parameters
        const dx = g.gradient(`grad:${x!.buffer}`, features);
        g.backward({ kind: 'dropout_backward', layer: info.name, dy: dOut.buffer, dx, features, rate: spec.rate, stream } as never);
        return [{ buffer: dx, reluApplied: false }];
      },
    };
  },
};
