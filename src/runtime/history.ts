// A run's per-epoch metrics in the shape of Keras's History: one list per
// quantity under `history`, indexed like `epoch` (numbered from 1 here, as
// Tessera's output numbers epochs; Keras's History.epoch counts from 0).
// Built from the trainer's epoch events, so a run that stops early, is
// interrupted or fails still has the epochs it finished. Browser-safe.

import type { EvalResult } from './backend.js';
import type { TrainEvent } from './trainer.js';

export interface HistoryJson {
  model: string;
  epoch: number[];
  /** Keras's log names; val_ lists only with validation data. */
  history: {
    loss: number[];
    accuracy: number[];
    val_loss?: number[];
    val_accuracy?: number[];
    learning_rate: number[];
    /** Wall time of each epoch, its validation pass included. */
    seconds: number[];
  };
  /** Why training ended before its epochs, when a callback stopped it. */
  stopped_early?: { epoch: number; reason: string };
  /** The test set after training, when it was evaluated. */
  test?: { loss: number; accuracy: number; samples: number };
}

export class HistoryRecorder {
  private readonly h: HistoryJson;

  constructor(model: string) {
    this.h = { model, epoch: [], history: { loss: [], accuracy: [], learning_rate: [], seconds: [] } };
  }

  on(e: TrainEvent): void {
    if (e.type !== 'epoch') return;
    const h = this.h.history;
    this.h.epoch.push(e.epoch);
    h.loss.push(e.loss);
    h.accuracy.push(e.accuracy);
    if (e.valLoss !== undefined) (h.val_loss ??= []).push(e.valLoss);
    if (e.valAccuracy !== undefined) (h.val_accuracy ??= []).push(e.valAccuracy);
    h.learning_rate.push(e.learningRate);
    h.seconds.push(e.seconds);
  }

  finish(result: { stoppedEarly?: { epoch: number; reason: string }; test?: EvalResult }): void {
    if (result.stoppedEarly) this.h.stopped_early = result.stoppedEarly;
    if (result.test) this.h.test = { loss: result.test.loss, accuracy: result.test.accuracy, samples: result.test.samples };
  }

  /** A copy, its lists in Keras's order: loss, metrics, their val_ forms, then learning_rate and seconds. */
  toJSON(): HistoryJson {
    const { loss, accuracy, val_loss, val_accuracy, learning_rate, seconds } = structuredClone(this.h.history);
    const history = { loss, accuracy, ...(val_loss ? { val_loss } : {}), ...(val_accuracy ? { val_accuracy } : {}), learning_rate, seconds };
    return { ...structuredClone(this.h), history };
  }
}
