// Where a training run stands, as plain data: enough to continue it later
// and get the same numbers as if it had never stopped. The RNG is
// counter-based (rng.ts): dropout masks depend on (seed, stream, global
// step) and each epoch's order on (seed, epoch), so the position is just
// the step and epoch counters; no generator state needs saving. Checkpoints
// (checkpoint.ts) store a TrainState in their metadata; fit (trainer.ts)
// takes one as `resume` and returns the one it ended at. Browser-safe.

import type { CallbackState } from './callbacks/types.js';
import type { EpochResult } from './trainer.js';

export interface TrainState {
  /** Epochs finished (the next epoch to run is epoch + 1). */
  epoch: number;
  /** Steps of the next epoch already run: 0 at an epoch boundary, else where an interrupted epoch stopped. */
  stepInEpoch: number;
  /** Optimizer steps run in total: dropout keys, Adam's t = globalStep + 1, and a schedule's position. */
  globalStep: number;
  /** Sums over the steps of the unfinished epoch (all zero at a boundary), so that its loss and metrics come out whole (sums: the metric ops' accumulators). */
  partial: { lossSum: number; correct: number; samples: number; sums?: number[] };
  /** The learning rate now (a callback such as reduce_lr_on_plateau may have lowered it). */
  learningRate: number;
  /** The finished epochs' results. */
  history: EpochResult[];
  /** Each callback's state, in the order of training.callbacks (null: it keeps none). */
  callbacks: (CallbackState | null)[];
  /** Examples in the training set the steps ran over (another count means other batches). */
  trainExamples: number;
}

/** The start of a run: nothing done yet. */
export function initialTrainState(learningRate: number, trainExamples: number): TrainState {
  return { epoch: 0, stepInEpoch: 0, globalStep: 0, partial: { lossSum: 0, correct: 0, samples: 0 }, learningRate, history: [], callbacks: [], trainExamples };
}

/** "epoch 2, step 40 of 625" or "the end of epoch 2", for people. */
export function describePosition(s: Pick<TrainState, 'epoch' | 'stepInEpoch' | 'globalStep'>, stepsPerEpoch: number): string {
  return s.stepInEpoch === 0
    ? `the end of epoch ${s.epoch} (global step ${s.globalStep})`
    : `epoch ${s.epoch + 1}, step ${s.stepInEpoch}/${stepsPerEpoch} (global step ${s.globalStep})`;
}
