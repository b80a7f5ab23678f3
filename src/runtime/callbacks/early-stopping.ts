// Keras's EarlyStopping, rule for rule (keras/src/callbacks/early_stopping.py,
// Keras 3): the best value starts at ±infinity; an epoch improves when
// `current − min_delta` beats the best (min_delta's sign follows the mode);
// the patience count restarts only when an epoch beats both the best and the
// baseline; training stops when the count reaches `patience`, never after
// the first epoch; epochs before start_from_epoch are not watched. With
// restore_best_weights the best epoch's weights come back at the end of
// training, also when no early stop happened (as in Keras 3).

import type { EarlyStoppingSpec } from '../../config/types.js';
import { formatMonitor, logValue, type Callback, type CallbackState, type EpochLogs, type TrainControl } from './types.js';

/** Whether a higher value of `monitor` is better under `mode` (auto: accuracies up, losses down, as the metrics' Keras directions). */
export function higherIsBetter(monitor: string, mode: 'auto' | 'min' | 'max'): boolean {
  if (mode !== 'auto') return mode === 'max';
  return monitor.replace(/^val_/, '') !== 'loss';
}

export class EarlyStopping implements Callback {
  readonly type = 'early_stopping';
  private readonly up: boolean;
  /** Signed as Keras has it: negative when lower is better. */
  private readonly minDelta: number;
  private wait = 0;
  private best = 0;
  private bestEpoch = 0;
  private bestWeights: Float32Array[] | null = null;
  /** 0-based epoch training stopped after; 0 = it did not stop (Keras's stopped_epoch). */
  stoppedEpoch = 0;

  constructor(private readonly spec: EarlyStoppingSpec) {
    this.up = higherIsBetter(spec.monitor, spec.mode);
    this.minDelta = this.up ? Math.abs(spec.min_delta) : -Math.abs(spec.min_delta);
  }

  onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.best = this.up ? -Infinity : Infinity;
    this.bestEpoch = 0;
    this.bestWeights = null;
  }

  private improves(value: number, reference: number): boolean {
    const v = value - this.minDelta;
    return this.up ? v > reference : v < reference;
  }

  async onEpochEnd(epoch: number, logs: EpochLogs, control: TrainControl): Promise<void> {
    const { monitor, patience, baseline, restore_best_weights: restore } = this.spec;
    const current = logValue(logs, monitor);
    if (current === undefined || epoch < this.spec.start_from_epoch) return;
    if (restore && this.bestWeights === null) {
      // Never set: the current weights are the best so far.
      this.bestWeights = await control.readParams();
      this.bestEpoch = epoch;
    }
    this.wait++;
    if (this.improves(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (restore) this.bestWeights = await control.readParams();
      if (baseline === undefined || this.improves(current, baseline)) this.wait = 0;
      return;
    }
    if (this.wait >= patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      const by = this.spec.min_delta !== 0 ? ` by more than ${Math.abs(this.spec.min_delta)}` : '';
      const against = Number.isFinite(this.best)
        ? `best ${formatMonitor(monitor, this.best)} at epoch ${this.bestEpoch + 1}`
        : `baseline ${formatMonitor(monitor, baseline ?? NaN)} never beaten`;
      const epochs = this.wait === 1 ? '1 epoch' : `${this.wait} epochs`;
      control.stop(`early stopping after epoch ${epoch + 1}/${control.epochs}: ${monitor} did not improve${by} for ${epochs} (patience ${patience}; ${against})`);
    }
  }

  getState(): CallbackState {
    return {
      type: this.type,
      values: { wait: this.wait, best: this.best, best_epoch: this.bestEpoch, stopped_epoch: this.stoppedEpoch, has_best_weights: this.bestWeights !== null },
      ...(this.bestWeights ? { tensors: this.bestWeights.map((w) => w.slice()) } : {}),
    };
  }

  setState(state: CallbackState): void {
    const v = state.values;
    this.wait = Number(v.wait);
    this.best = Number(v.best);
    this.bestEpoch = Number(v.best_epoch);
    this.stoppedEpoch = Number(v.stopped_epoch);
    this.bestWeights = v.has_best_weights === true && state.tensors ? state.tensors.map((w) => w.slice()) : null;
  }

  async onTrainEnd(control: TrainControl): Promise<void> {
    if (!this.spec.restore_best_weights || this.bestWeights === null) return;
    await control.writeParams(this.bestWeights);
    const best = Number.isFinite(this.best) ? ` (${this.spec.monitor} ${formatMonitor(this.spec.monitor, this.best)})` : '';
    control.note(`early stopping: restored the weights from the end of the best epoch, ${this.bestEpoch + 1}${best}`);
  }
}
