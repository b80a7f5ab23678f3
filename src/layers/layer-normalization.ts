// layer_normalization (Keras LayerNormalization, axis −1): every position's
// vector of the last axis normalised to mean 0 and variance 1, then scaled
// by gamma (ones) and shifted by beta (zeros), saved as <name>/gamma and
// <name>/beta. The per-vector mean and 1/σ are kept for the fused backward.

import type { LayerNormalizationLayerSpec } from '../config/types.js';
import { fmtShape, product, type LayerDef, type ParamDecl } from './types.js';

function decls(spec: LayerNormalizationLayerSpec, D: number): ParamDecl[] {
  const out: ParamDecl[] = [];
  if (spec.scale) out.push({ name: 'gamma', shape: [D], init: 'ones', fanIn: D, fanOut: D });
  if (spec.center) out.push({ name: 'beta', shape: [D], init: 'zeros', fanIn: D, fanOut: D });
  return out;
}

export const layerNormalizationLayer: LayerDef<LayerNormalizationLayerSpec> = {
  type: 'layer_normalization',
  infer(spec, [input], ctx) {
    if (spec.axis !== -1 && spec.axis !== input!.length - 1) {
      ctx.error({ path: [...ctx.path, 'axis'], message: `layer_normalization normalises the last axis only; axis ${spec.axis} of ${fmtShape(input!)} is not it`, hint: 'use axis: -1' });
    }
    return { outputShape: [...input!], params: decls(spec, input![input!.length - 1]!) };
  },
  lower(spec, info, [x], g) {
    const D = x!.shape[x!.shape.length - 1]!, G = product(x!.shape) / D;
    const params = decls(spec, D).map((d) => g.param(info.name, d));
    const gamma = spec.scale ? params[0]! : null;
    const beta = spec.center ? params[spec.scale ? 1 : 0]! : null;
    const y = g.activation(`${info.name}/out`, G * D);
    const mean = g.activation(`${info.name}/mean`, G), rstd = g.activation(`${info.name}/rstd`, G);
    g.forward({ kind: 'layer_norm', layer: info.name, x: x!.buffer, gamma, beta, y, mean, rstd, groups: G, dim: D, epsilon: spec.epsilon } as never);
    return {
      output: { ...x!, buffer: y, reluOutput: false },
      backward(dOut) {
        const dx = g.gradient(`grad:${x!.buffer}`, G * D);
        g.backward({
          kind: 'layer_norm_backward', layer: info.name, dy: dOut.buffer, x: x!.buffer, gamma, mean, rstd, dx,
          dgamma: gamma ? `${gamma}:grad` : null, dbeta: beta ? `${beta}:grad` : null, groups: G, dim: D,
        } as never);
        return [x!.needsGrad ? { buffer: dx, reluApplied: false } : null];
      },
    };
  },
};
