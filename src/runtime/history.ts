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
  /**
   * Keras's log names, in Keras's order: loss, each metric (accuracy, mse,
   * …), val_loss and each val_ metric (only with validation data), then
   * learning_rate and seconds (wall time of each epoch, its validation pass included).
   */
  history: Record<string, number[]>;
  /** Why training ended before its epochs, when a callback stopped it. */
  stopped_early?: { epoch: number; reason: string };
  /** The test set after training, when it was evaluated: loss, each metric, samples. */
  test?: Record<string, number>;
}

export class HistoryRecorder {
  private readonly h: HistoryJson;

  constructor(model: string) {
    this.h = { model, epoch: [], history: {} };
  }

  on(e: TrainEvent): void {
    if (e.type !== 'epoch') return;
    const h = this.h.history;
    this.h.epoch.push(e.epoch);
    const push = (name: string, v: number) => { (h[name] ??= []).push(v); };
    push('loss', e.loss);
    for (const [name, v] of Object.entries(e.metrics)) push(name, v);
    if (e.valLoss !== undefined) {
      push('val_loss', e.valLoss);
      for (const [name, v] of Object.entries(e.valMetrics ?? {})) push(`val_${name}`, v);
    }
    push('learning_rate', e.learningRate);
    push('seconds', e.seconds);
  }

  finish(result: { stoppedEarly?: { epoch: number; reason: string }; test?: EvalResult }): void {
    if (result.stoppedEarly) this.h.stopped_early = result.stoppedEarly;
    if (result.test) this.h.test = { loss: result.test.loss, ...result.test.metrics, samples: result.test.samples };
  }

  /** A copy, its lists in Keras's order: loss, metrics, their val_ forms, then learning_rate and seconds. */
  toJSON(): HistoryJson {
    const all = structuredClone(this.h.history);
    const tail = ['learning_rate', 'seconds'];
    const names = Object.keys(all).filter((n) => !tail.includes(n));
    const ordered = [...names.filter((n) => !n.startsWith('val_')), ...names.filter((n) => n.startsWith('val_')), ...tail.filter((n) => n in all)];
    const history = Object.fromEntries(ordered.map((n) => [n, all[n]!]));
    return { ...structuredClone(this.h), history };
  }
}
