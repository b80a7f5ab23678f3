// The optimizers: lowering of the spec's `optimizer:` into per-parameter
// state buffers and update ops (one file each), and the hyper-parameters the
// graph carries for the backends. Browser-safe.

import type { LearningRateSchedule, OptimizerSpec } from '../../config/types.js';
import type { OpRecordBase } from '../../ops/types.js';
import { adamLowering, adamwLowering } from './adam.js';
import { rmspropLowering } from './rmsprop.js';
import { initialRate, scheduleRate } from './schedules.js';
import { sgdLowering } from './sgd.js';
import type { OptimizerLowering, ParamBuffers } from './types.js';

export type { OptimizerLowering, ParamBuffers } from './types.js';
export { scheduleRate } from './schedules.js';

const LOWERINGS: Record<OptimizerSpec['type'], OptimizerLowering> = {
  adam: adamLowering as OptimizerLowering,
  adamw: adamwLowering as OptimizerLowering,
  sgd: sgdLowering as OptimizerLowering,
  rmsprop: rmspropLowering as OptimizerLowering,
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
 * rate, or the schedule that gives each step's (learningRateAt), and Adam's
 * constants, which adam and adamw take from the step context. Callbacks
 * (reduce_lr_on_plateau) may change learningRate between trainSteps calls,
 * never a schedule (Keras refuses that too; validation rejects the pair).
 */
export interface GraphOptimizer {
  type: OptimizerSpec['type'];
  /** The fixed rate; with a schedule, its rate at step 0 (for display). */
  learningRate: number;
  schedule: LearningRateSchedule | null;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export function graphOptimizer(spec: OptimizerSpec): GraphOptimizer {
  const lr = spec.learning_rate;
  const schedule = typeof lr === 'number' ? null : lr;
  const adam = spec.type === 'adam' || spec.type === 'adamw';
  return {
    type: spec.type,
    learningRate: schedule ? initialRate(schedule) : (lr as number),
    schedule,
    beta1: adam ? spec.beta_1 : 0,
    beta2: adam ? spec.beta_2 : 0,
    epsilon: spec.type === 'sgd' ? 0 : spec.epsilon,
  };
}

/** The learning rate of optimizer step `step` (0-based: updates already applied), in f64: what every backend uses for that step. */
export function learningRateAt(o: GraphOptimizer, step: number): number {
  return o.schedule ? scheduleRate(o.schedule, step) : o.learningRate;
}
