// The optimizers: lowering of the spec's `optimizer:` into per-parameter
// state buffers and update ops (one file each), and the hyper-parameters the
// graph carries for the backends. Browser-safe.

import type { OptimizerSpec } from '../../config/types.js';
import type { OpRecordBase } from '../../ops/types.js';
import { adamLowering } from './adam.js';
import type { OptimizerLowering, ParamBuffers } from './types.js';

export type { OptimizerLowering, ParamBuffers } from './types.js';

const LOWERINGS: Record<OptimizerSpec['type'], OptimizerLowering> = {
  adam: adamLowering as OptimizerLowering,
};

function lowering(spec: OptimizerSpec): OptimizerLowering {
  const l = LOWERINGS[spec.type];
  if (!l) throw new Error(`unknown optimizer '${spec.type}'; known: ${Object.keys(LOWERINGS).join(', ')}`);
  return l;
}

/** The names of a parameter's optimizer state buffers. */
export function optimizerState(spec: OptimizerSpec, param: string): string[] {
  return lowering(spec).state(spec).map((suffix) => `${param}:${suffix}`);
}

/** The update op of one parameter. */
export function optimizerUpdate(spec: OptimizerSpec, p: ParamBuffers): OpRecordBase {
  return lowering(spec).update(spec, p);
}

/**
 * What the backends read of the optimizer (graph.optimizer): the learning
 * rate (callbacks may change it between trainSteps calls) and Adam's
 * constants, which the adam op takes from the step context.
 */
export interface GraphOptimizer {
  type: OptimizerSpec['type'];
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export function graphOptimizer(spec: OptimizerSpec): GraphOptimizer {
  return { type: spec.type, learningRate: spec.learning_rate, beta1: spec.beta_1, beta2: spec.beta_2, epsilon: spec.epsilon };
}
