// What an optimizer is to the graph compiler: which state buffers each
// parameter carries (zeroed by resetOptimizer, saved by checkpoints: every
// buffer of kind 'optimizer_state') and which fused update op record
// updates a parameter from its gradient. One file per optimizer in this
// folder, listed in ./index.ts. Browser-safe.

import type { OptimizerSpec } from '../../config/types.js';
import type { OpRecordBase } from '../../ops/types.js';

/** A parameter as the optimizer sees it: its buffers and size. */
export interface ParamBuffers {
  /** The parameter's buffer (e.g. dense_1/kernel). */
  name: string;
  grad: string;
  size: number;
  /** The names this optimizer's state buffers have for this parameter, in `state` order. */
  state: string[];
}

export interface OptimizerLowering<S extends OptimizerSpec = OptimizerSpec> {
  type: S['type'];
  /** Suffixes of the state buffers each parameter gets (`<param>:<suffix>`), in the order the update op takes them. */
  state(spec: S): string[];
  /** The update op record of one parameter. */
  update(spec: S, p: ParamBuffers): OpRecordBase;
}

/** Identity helper that checks an optimizer file against OptimizerLowering. */
export function defineOptimizer<S extends OptimizerSpec>(def: OptimizerLowering<S>): OptimizerLowering<S> {
  return def;
}
