// The callbacks a model file's training.callbacks list makes. Browser-safe.

import type { CallbackSpec } from '../../config/types.js';
import { EarlyStopping } from './early-stopping.js';
import { ModelCheckpoint, type CheckpointSaver } from './model-checkpoint.js';
import { ReduceLrOnPlateau } from './reduce-lr.js';
import type { Callback } from './types.js';

export type { Callback, CallbackState, EpochLogs, TrainControl } from './types.js';
export { EarlyStopping } from './early-stopping.js';
export { ModelCheckpoint, type CheckpointSaver } from './model-checkpoint.js';
export { ReduceLrOnPlateau } from './reduce-lr.js';

/** One callback object per entry, in order (each holds its own state for one fit); `save` writes model_checkpoint's files. */
export function callbacksFromSpec(specs: readonly CallbackSpec[] = [], options: { save?: CheckpointSaver } = {}): Callback[] {
  return specs.map((s) => {
    switch (s.type) {
      case 'early_stopping': return new EarlyStopping(s);
      case 'reduce_lr_on_plateau': return new ReduceLrOnPlateau(s);
      case 'model_checkpoint': return new ModelCheckpoint(s, options.save);
    }
  });
}
