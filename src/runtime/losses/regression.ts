// mean_squared_error, mean_absolute_error and huber: the last layer's
// outputs against float targets of the same width (gathered by
// gather_targets), one fused op each (src/ops/regression_loss.ts). Their
// ops in metric mode are the mse and mae metrics (./index.ts).

import type { LossSpec } from '../../config/types.js';
import { TARGETS_BUFFER } from '../../ops/gather_targets.js';
import type { RegressionKind, RegressionLossOp } from '../../ops/regression_loss.js';
import type { LossLowering } from './types.js';

type Spec = Extract<LossSpec, { type: RegressionKind }>;

/** Keras's default δ of huber. */
export const HUBER_DELTA = 1.0;

/** A regression op: the loss (accumulator −1, with dOutputs in training) or a metric (accumulator k, no dOutputs). */
export function regressionRecord(kind: RegressionKind, outputs: string, dOutputs: string | null, units: number, delta: number, accumulator: number): RegressionLossOp {
  return { kind, layer: accumulator < 0 ? 'loss' : 'metrics', outputs, targets: TARGETS_BUFFER, dOutputs, width: units, delta, accumulator };
}

export const regressionLoss: LossLowering<Spec> = {
  targetWidth: (_spec, units) => units,
  op: (spec, outputs, dOutputs, units) => regressionRecord(spec.type, outputs, dOutputs, units, spec.type === 'huber' ? spec.delta ?? HUBER_DELTA : HUBER_DELTA, -1),
  fused: () => [],
  prediction: () => 'identity',
};
