// The two ways fit fails: bad numbers (the parameters are restored to the
// last good snapshot) and a failing backend (the last good snapshot is handed
// to the caller). See the top of trainer.ts. Browser-safe.

/** Where parameters were restored to: the end of `step` of `epoch` (step 0 of epoch 1 = the initial parameters). */
export interface RestorePoint { epoch: number; step: number; globalStep: number }

export class TrainingDivergedError extends Error {
  readonly epoch: number;
  /** The steps of `epoch` (1-based, inclusive) within which the bad numbers arose. */
  readonly firstStep: number;
  readonly lastStep: number;
  readonly restoredTo: RestorePoint;
  readonly what: 'loss' | 'parameters';

  constructor(what: 'loss' | 'parameters', value: string, epoch: number, firstStep: number, lastStep: number, restoredTo: RestorePoint) {
    const subject = what === 'loss' ? `loss became ${value}` : `parameters became ${value}`;
    const where = firstStep === lastStep ? `at step ${firstStep}` : `within steps ${firstStep}–${lastStep}`;
    const restored =
      restoredTo.globalStep === 0
        ? 'parameters restored to their initial values'
        : restoredTo.epoch === epoch
          ? `parameters restored to step ${restoredTo.step}`
          : `parameters restored to the end of epoch ${restoredTo.epoch}`;
    super(`training diverged: ${subject} in epoch ${epoch} ${where}; ${restored} (try a lower learning_rate)`);
    this.name = 'TrainingDivergedError';
    this.what = what;
    this.epoch = epoch;
    this.firstStep = firstStep;
    this.lastStep = lastStep;
    this.restoredTo = restoredTo;
  }
}

/** The backend failed during training or the final evaluation; `lastGood` are the parameters of the last good snapshot, taken at `restoredTo`. */
export class TrainingFailedError extends Error {
  readonly restoredTo: RestorePoint;
  readonly lastGood: Float32Array[];

  constructor(where: string, cause: unknown, restoredTo: RestorePoint, lastGood: Float32Array[]) {
    super(`training failed ${where}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'TrainingFailedError';
    this.restoredTo = restoredTo;
    this.lastGood = lastGood;
  }
}
