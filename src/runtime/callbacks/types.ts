// What a training callback sees and may do (Keras's Callback, reduced to
// what Tessera's callbacks need). The trainer (../trainer.ts) calls
// onTrainBegin before the first epoch, onEpochEnd after each epoch's
// validation pass, and onTrainEnd after the last epoch (not when fit is
// aborted, as Keras skips on_train_end on an interrupt). Browser-safe.

import type { TrainState } from '../train-state.js';

/** An epoch's logs under Keras's names (loss, each metric: accuracy, mse, …); val_ entries only with validation data. */
export interface EpochLogs {
  loss: number;
  val_loss?: number;
  /** The learning rate the epoch's steps used. */
  learning_rate: number;
  [metric: string]: number | undefined;
}

/** The monitored quantity of a log, or undefined when the logs do not hold it. */
export function logValue(logs: EpochLogs, name: string): number | undefined {
  return (logs as unknown as Record<string, number | undefined>)[name];
}

/**
 * What a callback carries from epoch to epoch (best value so far, a
 * patience count, the best weights), so that a resumed run goes on exactly
 * as the interrupted one would have: JSON values (±Infinity allowed) and
 * tensors. Checkpoints save it (src/runtime/checkpoint.ts).
 */
export interface CallbackState {
  type: string;
  values: Record<string, number | boolean | string | null>;
  tensors?: Float32Array[];
}

export interface TrainControl {
  /** Epochs fit was asked to run. */
  readonly epochs: number;
  /** Stop after the current epoch (Keras model.stop_training = True), saying why, for people. */
  stop(reason: string): void;
  /** Copies of the parameters (graph.params order). */
  readParams(): Promise<Float32Array[]>;
  /** Replace the parameters; the optimizer's state is kept, as Keras's set_weights does. */
  writeParams(params: Float32Array[]): Promise<void>;
  /** The optimizer's learning rate; a new value applies from the next training step on every backend. */
  learningRate: number;
  /** A line for people about what the callback did (the trainer emits it as a 'note' event). */
  note(message: string): void;
  /** The run's resumable position now (after an epoch: its end), every callback's state included. */
  state(): TrainState;
}

export interface Callback {
  /** The YAML type name (early_stopping, …), for messages. */
  readonly type: string;
  onTrainBegin?(control: TrainControl): void;
  /** `epoch` counts from 0, as in Keras, so that Keras's rules read the same here; messages add 1. */
  onEpochEnd(epoch: number, logs: EpochLogs, control: TrainControl): void | Promise<void>;
  onTrainEnd?(control: TrainControl): void | Promise<void>;
  /**
   * After every callback's onEpochEnd for the epoch, so that the run's state
   * is final for it (the learning rate, the other callbacks' counts): where
   * model_checkpoint saves.
   */
  afterEpoch?(epoch: number, logs: EpochLogs, control: TrainControl): void | Promise<void>;
  /** The state to checkpoint (see CallbackState); none when absent. */
  getState?(): CallbackState;
  /** Take back a checkpoint's state, after onTrainBegin, before the resumed run's first step. */
  setState?(state: CallbackState): void;
}

/** "0.1234" for losses, "97.81%" for accuracies: how a monitored value reads in a message. */
export function formatMonitor(name: string, value: number): string {
  return name.endsWith('accuracy') ? `${(100 * value).toFixed(2)}%` : value.toFixed(4);
}
