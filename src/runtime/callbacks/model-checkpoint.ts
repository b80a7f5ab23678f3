// Keras's ModelCheckpoint (keras/src/callbacks/model_checkpoint.py) for
// save_freq 'epoch': after every epoch, or with save_best_only only when the
// monitored quantity beats the best so far (strictly, no min_delta), the
// model goes to filepath formatted with the epoch and its logs. It saves in
// afterEpoch, once every callback's onEpochEnd has run, so that the file's
// state (learning rate, other callbacks' counts, its own best) is the
// epoch's final one and a run resumed from it goes on as this one does.
// How bytes reach a file is the caller's (`save`): the CLI writes them
// atomically; a page without one gets a note. Browser-safe.

import type { ModelCheckpointSpec } from '../../config/types.js';
import type { TrainState } from '../train-state.js';
import { higherIsBetter } from './early-stopping.js';
import { formatFilepath } from '../../config/checkpoint-filepath.js';
import { logValue, type Callback, type CallbackState, type EpochLogs, type TrainControl } from './types.js';

/** Writes the model to `path`: the weights alone, or a resumable checkpoint of `state`. */
export type CheckpointSaver = (path: string, weightsOnly: boolean, state: TrainState) => Promise<void>;

export class ModelCheckpoint implements Callback {
  readonly type = 'model_checkpoint';
  private readonly up: boolean;
  private best = 0;
  private warned = false;
  /** The paths saved in this fit, in order (for tests and pages). */
  readonly saved: string[] = [];

  constructor(private readonly spec: ModelCheckpointSpec, private readonly save?: CheckpointSaver) {
    this.up = higherIsBetter(spec.monitor, spec.mode);
  }

  onTrainBegin(): void {
    this.best = this.spec.initial_value_threshold ?? (this.up ? -Infinity : Infinity);
    this.saved.length = 0;
  }

  onEpochEnd(): void {}

  async afterEpoch(epoch: number, logs: EpochLogs, control: TrainControl): Promise<void> {
    const { monitor, save_best_only: bestOnly, verbose } = this.spec;
    const path = formatFilepath(this.spec.filepath, epoch + 1, logs as unknown as Record<string, number>);
    const what = this.spec.save_weights_only ? 'weights' : 'checkpoint';
    if (bestOnly) {
      const current = logValue(logs, monitor);
      if (current === undefined) return;
      if (!(this.up ? current > this.best : current < this.best)) {
        if (verbose) control.note(`Epoch ${epoch + 1}: ${monitor} did not improve from ${this.best.toFixed(5)}`);
        return;
      }
      if (verbose) control.note(`Epoch ${epoch + 1}: ${monitor} improved from ${this.best.toFixed(5)} to ${current.toFixed(5)}, saving the ${what} to ${path}`);
      this.best = current;
    } else if (verbose) {
      control.note(`Epoch ${epoch + 1}: saving the ${what} to ${path}`);
    }
    if (!this.save) {
      if (!this.warned) control.note('model_checkpoint: nothing saved, there is no file system here (use Model.checkpoint() for the bytes)');
      this.warned = true;
      return;
    }
    await this.save(path, this.spec.save_weights_only, control.state());
    this.saved.push(path);
  }

  getState(): CallbackState {
    return { type: this.type, values: { best: this.best } };
  }

  setState(state: CallbackState): void {
    this.best = Number(state.values.best);
  }
}
