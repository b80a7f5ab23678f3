// The callbacks a model file's training.callbacks list makes. Browser-safe.

import type { CallbackSpec } from '../../config/types.js';
import { EarlyStopping } from './early-stopping.js';
import { ReduceLrOnPlateau } from './reduce-lr.js';
import type { Callback } from './types.js';

export type { Callback, EpochLogs, TrainControl } from './types.js';
export { EarlyStopping } from './early-stopping.js';
export { ReduceLrOnPlateau } from './reduce-lr.js';

/** One callback object per entry, in order (each holds its own state for one fit). */
export function callbacksFromSpec(specs: readonly CallbackSpec[] = []): Callback[] {
  return specs.map((s) => (s.type === 'early_stopping' ? new EarlyStopping(s) : new ReduceLrOnPlateau(s)));
}
