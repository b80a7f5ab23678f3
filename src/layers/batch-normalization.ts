// batch_normalization: Keras BatchNormalization over the last axis
// (channels_last), Keras 3's formulas. Weights, in Keras's order and names:
// gamma (ones, when `scale`), beta (zeros, when `center`), then the
// non-trainable moving_mean (zeros) and moving_variance (ones), which are
// saved and loaded with the others but have no gradient and no optimizer
// update. In training batch_norm_train normalises with the batch's mean and
// biased variance (per channel, over every row and position) and updates
// the moving statistics; inference (evaluate, predict, validation) runs
// batch_norm_inference on the moving statistics instead. The per-channel
// batch statistics live in a non-per-row `batch_stats` buffer between the
// forward op and the fused backward op (dx, dgamma, dbeta).

import type { BatchNormalizationLayerSpec } from '../config/types.js';
import { BATCH_STATS_PER_CHANNEL } from '../ops/batch-norm-reference.js';
import { fmtShape, type InferContext, type LayerDef, type ParamDecl } from './types.js';

/** The channel count, reporting an axis other than the last one. */
function channelsOf(spec: BatchNormalizationLayerSpec, input: number[], ctx: InferContext | null): number {
  const rank = input.length + 1; // with the batch axis, as Keras counts
  const axis = spec.axis ?? -1;
  if (ctx && axis !== -1 && axis !== rank - 1) {
    ctx.error({
      path: [...ctx.path, 'axis'],
      message: `batch_normalization: axis ${axis} is not the channel axis; only the last axis (-1, or ${rank - 1} for input shape ${fmtShape(input)} with its batch axis) is supported`,
      hint: 'use axis: -1 (channels_last)',
    });
  }
  return input[input.length - 1]!;
}

function weightsOf(spec: BatchNormalizationLayerSpec, c: number): ParamDecl[] {
  const decl = (name: string, init: 'zeros' | 'ones', trainable: boolean): ParamDecl => ({ name, shape: [c], init, fanIn: c, fanOut: c, trainable });
  return [
    ...(spec.scale !== false ? [decl('gamma', 'ones', true)] : []),
    ...(spec.center !== false ? [decl('beta', 'zeros', true)] : []),
    decl('moving_mean', 'zeros', false),
    decl('moving_variance', 'ones', false),
  ];
}

export const batchNormalizationLayer: LayerDef<BatchNormalizationLayerSpec> = {
  type: 'batch_normalization',
  infer(spec, [input], ctx) {
    return { outputShape: [...input!], params: weightsOf(spec, channelsOf(spec, input!, ctx)) };
  },
  lower(spec, info, [x], g) {
    const channels = channelsOf(spec, x!.shape, null);
    const features = x!.features;
    const names = new Map(weightsOf(spec, channels).map((d) => [d.name, g.param(info.name, d)]));
    const gamma = names.get('gamma') ?? null, beta = names.get('beta') ?? null;
    const movingMean = names.get('moving_mean')!, movingVariance = names.get('moving_variance')!;
    const stats = g.batchState(`${info.name}/batch_stats`, BATCH_STATS_PER_CHANNEL * channels);
    const y = g.activation(`${info.name}/out`, features);
    const common = { layer: info.name, x: x!.buffer, gamma, beta, movingMean, movingVariance, stats, y, features, channels, epsilon: spec.epsilon ?? 0.001 };
    g.forwardModes(
      { kind: 'batch_norm_train', ...common, momentum: spec.momentum ?? 0.99 } as never,
      { kind: 'batch_norm_inference', ...common } as never,
    );
    return {
      output: { ...x!, buffer: y, reluOutput: false },
      backward(dOut) {
        const dx = x!.needsGrad ? g.gradient(`grad:${x!.buffer}`, features) : null;
        g.backward({
          kind: 'batch_norm_backward', layer: info.name, dy: dOut.buffer, x: x!.buffer, stats, dx,
          dgamma: gamma ? `${gamma}:grad` : null, dbeta: beta ? `${beta}:grad` : null, features, channels,
        } as never);
        return [dx ? { buffer: dx, reluApplied: false } : null];
      },
    };
  },
};
