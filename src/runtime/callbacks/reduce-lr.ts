// Keras's ReduceLROnPlateau, rule for rule (keras/src/callbacks/
// reduce_lr_on_plateau.py): an epoch improves when it beats the best by
// more than min_delta (auto mode: higher is better when the monitor's name
// contains "acc"); after `patience` epochs without improvement, outside a
// cooldown, the learning rate becomes max(lr · factor, min_lr), if it is
// still above min_lr (compared in float32, as Keras does).

import type { ReduceLrOnPlateauSpec } from '../../config/types.js';
import { formatMonitor, logValue, type Callback, type CallbackState, type EpochLogs, type TrainControl } from './types.js';

export class ReduceLrOnPlateau implements Callback {
  readonly type = 'reduce_lr_on_plateau';
  private readonly up: boolean;
  private best = 0;
  private wait = 0;
  private cooldownCounter = 0;

  constructor(private readonly spec: ReduceLrOnPlateauSpec) {
    this.up = spec.mode === 'max' || (spec.mode === 'auto' && spec.monitor.includes('acc'));
  }

  onTrainBegin(): void {
    this.best = this.up ? -Infinity : Infinity;
    this.wait = 0;
    this.cooldownCounter = 0;
  }

  getState(): CallbackState {
    return { type: this.type, values: { best: this.best, wait: this.wait, cooldown_counter: this.cooldownCounter } };
  }

  setState(state: CallbackState): void {
    this.best = Number(state.values.best);
    this.wait = Number(state.values.wait);
    this.cooldownCounter = Number(state.values.cooldown_counter);
  }

  onEpochEnd(epoch: number, logs: EpochLogs, control: TrainControl): void {
    const { monitor, min_delta: delta, factor, patience, min_lr: minLr } = this.spec;
    const current = logValue(logs, monitor);
    if (current === undefined) return;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.wait = 0;
    }
    if (this.up ? current > this.best + delta : current < this.best - delta) {
      this.best = current;
      this.wait = 0;
      return;
    }
    if (this.cooldownCounter > 0) return;
    this.wait++;
    if (this.wait < patience) return;
    const old = control.learningRate;
    if (!(old > Math.fround(minLr))) return;
    const next = Math.max(old * factor, minLr);
    control.learningRate = next;
    control.note(
      `reduce_lr_on_plateau after epoch ${epoch + 1}: ${monitor} did not improve for ${this.wait} epoch${this.wait === 1 ? '' : 's'} ` +
        `(best ${formatMonitor(monitor, this.best)}); learning rate ${+old.toPrecision(4)} → ${+next.toPrecision(4)}`,
    );
    this.cooldownCounter = this.spec.cooldown;
    this.wait = 0;
  }
}
