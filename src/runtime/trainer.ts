// The trainer: fit / evaluate / predict on any Backend. Browser-safe (no
// Node imports); the CLI (src/cli/commands/train.ts) and a web page consume
// the same events.
//
// fit() runs epochs of steps in chunks. Per epoch it uploads one order
// (epochOrder(count, seed, epochIndex, shuffle)), then calls
// backend.trainSteps(firstBatch, chunk, globalStep) for chunks of at most
// `progressEvery` steps (never across an epoch boundary) and reads the
// accumulated metrics once per chunk. The step count per epoch is
// ceil(count / batchSize): the last batch of an epoch is partial when count
// is not a multiple of the batch size, and every example is seen once per
// epoch. The global step counter (dropout keys, Adam's t = globalStep + 1)
// runs on across epochs. Chunking changes only how often the host looks:
// with a given seed the parameters after each step are the same for every
// `progressEvery` (on the js backend bit for bit).
//
// Bad numbers. After every chunk the loss sum must be finite. The trainer
// keeps a snapshot of the last good parameters (backend.readParams): taken
// before the first step, after the first good chunk once at least
// `snapshotSeconds` (default 1 s) have passed since the previous one, and at
// the end of every epoch. On a GPU backend a snapshot is a read-back, so it
// is rate-limited; on the js backend it is a 400 KB copy. Every snapshot
// is also checked to be finite (a NaN weight can hide behind a ReLU, which
// maps NaN to 0, and keep the loss finite). When a chunk's loss is NaN or
// infinite, or a snapshot holds a NaN or infinite value, fit writes the last
// good snapshot back, zeroes the Adam moments (they are poisoned too) and
// throws TrainingDivergedError, which names the epoch and the range of steps
// the problem arose in (a chunk of several steps runs without the host
// looking, so the exact step is not known) and the step the parameters were
// restored to.
//
// A failing backend. When the backend itself throws during the epochs (a
// lost WebGPU device, a kernel error) or while evaluating the test set after
// them, the parameters on it can no longer be trusted or even read: fit
// throws TrainingFailedError, which says where it happened, keeps the cause,
// and carries the last good snapshot and the step it was taken at, for the
// caller to save.
//
// Validation and callbacks. With data.validation, every epoch ends with
// backend.evaluate('validation') (a resident slot, so the pass runs on the
// device like training); its loss and accuracy are in the epoch event and
// result as valLoss / valAccuracy (valMetrics: every metric). Then each
// callback's onEpochEnd runs with the epoch's logs (Keras's names: loss, each
// metric, val_loss, each val_ metric, learning_rate); a callback may stop training after the epoch, replace the
// weights, or change graph.optimizer.learningRate, which every backend reads
// afresh at each trainSteps call (see backend.ts). onTrainEnd runs after the
// last epoch and before the test set is evaluated (so restored weights are
// the ones tested), but not when fit is aborted.
//
// Resume. With `resume` (a TrainState, from a checkpoint: train-state.ts)
// fit starts where that run stood: the epoch and step within it, the global
// step, the unfinished epoch's sums, the finished epochs' results and each
// callback's state; the backend must already hold the checkpoint's weights
// and optimizer state. Chunks restart at the interrupted step, which was a
// chunk boundary, so every chunk is the one the uninterrupted run had and
// the losses are the same bit for bit. FitResult.state is where the run
// ended, for a checkpoint.
//
// Cancellation: when `signal` aborts, fit stops after the current chunk and
// resolves with `aborted: true` (parameters as of the last finished step).
// fit yields to the event loop (a zero-delay timer) after every chunk, so a
// page can repaint and a Node SIGINT handler can run even on the synchronous
// js backend.

import type { Backend, DatasetSlot, DatasetTensors, EvalResult } from './backend.js';
import { featureBytes } from '../data/types.js';
import type { Graph } from './graph.js';
import type { Callback, EpochLogs, TrainControl } from './callbacks/types.js';
import { metricValues } from './losses/index.js';
import { epochOrder } from './rng.js';
import { initialTrainState, type TrainState } from './train-state.js';
import { TrainingDivergedError, TrainingFailedError, type RestorePoint } from './train-errors.js';
import { learningRateAt } from './optimizers/index.js';

export { TrainingDivergedError, TrainingFailedError, type RestorePoint } from './train-errors.js';

export interface FitData {
  train: DatasetTensors;
  /** When given, it is uploaded and evaluated after the last epoch (FitResult.test). */
  test?: DatasetTensors;
  /** When given, it is uploaded to the 'validation' slot and evaluated after every epoch. */
  validation?: DatasetTensors;
}

export interface FitOptions {
  epochs: number;
  shuffle: boolean;
  /** Seeds the per-epoch shuffle (the graph's seed drives init and dropout). */
  seed: number;
  /**
   * Steps per trainSteps call and per readMetrics / progress event. Default:
   * ceil(stepsPerEpoch / 20) capped at 100, so an epoch gives about 20
   * progress events and a large epoch one every 100 steps.
   */
  progressEvery?: number;
  /** Minimum seconds between mid-epoch parameter snapshots (see above). Default 1; 0 = after every chunk. */
  snapshotSeconds?: number;
  /** Stop after the current chunk; fit then resolves with `aborted: true`. */
  signal?: AbortSignal;
  onEvent?: (e: TrainEvent) => void;
  /** Run after every epoch, in order (src/runtime/callbacks). */
  callbacks?: Callback[];
  /** Continue from this position (see the top of this file); the backend already holds its weights and optimizer state. */
  resume?: TrainState;
}

/** Epochs are numbered from 1 in events and results; steps within an epoch from 1. */
export type TrainEvent =
  | { type: 'start'; epochs: number; stepsPerEpoch: number; batchSize: number; samples: number; backend: string; description: string }
  | { type: 'epoch-start'; epoch: number; epochs: number; steps: number }
  | {
      type: 'progress';
      epoch: number;
      epochs: number;
      /** Steps of this epoch done so far, 1..steps. */
      step: number;
      steps: number;
      /** Examples of this epoch seen so far. */
      samples: number;
      /** Running means over the epoch so far (accuracy: the loss op's correct count). */
      loss: number;
      accuracy: number;
      /** Every metric of the model by its Keras name, running means. */
      metrics: Record<string, number>;
      samplesPerSec: number;
      /** Seconds left in this epoch at the current rate. */
      etaSeconds: number;
      globalStep: number;
    }
  | ({ type: 'epoch'; epochs: number } & EpochResult)
  /** What a callback did (stopped training, restored weights, lowered the learning rate), for people. */
  | { type: 'note'; epoch: number; message: string }
  | { type: 'end'; epochs: number; seconds: number; aborted: boolean; test?: EvalResult };

export interface EpochResult {
  epoch: number; loss: number; accuracy: number; samples: number;
  /** The epoch's wall time, validation pass included (as Keras counts it). */
  seconds: number;
  /** The learning rate of the epoch's steps. */
  learningRate: number;
  /** Every metric of the model by its Keras name (accuracy among them when it is one). */
  metrics: Record<string, number>;
  /** Over the validation set after the epoch, when there is one. */
  valLoss?: number;
  valAccuracy?: number;
  valMetrics?: Record<string, number>;
}

export interface FitResult {
  /** Completed epochs (an aborted epoch is not listed). */
  epochs: EpochResult[];
  /** Training steps run in total. */
  steps: number;
  seconds: number;
  aborted: boolean;
  /** Where training stopped when aborted: epoch and step within it. */
  stoppedAt?: { epoch: number; step: number; steps: number };
  /** Test-set evaluation after the last epoch, when data.test was given and training was not aborted. */
  test?: EvalResult;
  /** Set when a callback stopped training before `epochs`: after which epoch, and why. */
  stoppedEarly?: { epoch: number; reason: string };
  /** Where the run ended, resumable from there (an aborted run: the step it stopped at). */
  state: TrainState;
}

/** The steps an epoch of `count` examples takes at batch size `batchSize` (the last one may be partial). */
export function stepsPerEpoch(count: number, batchSize: number): number {
  return Math.ceil(count / batchSize);
}

/** The default chunk: about 20 progress events per epoch, at most 100 steps apart. */
export function defaultProgressEvery(steps: number): number {
  return Math.max(1, Math.min(100, Math.ceil(steps / 20)));
}

const now = () => performance.now();
const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function checkDataset(name: string, data: DatasetTensors, graph: Graph): void {
  if (data.features !== graph.inputFeatures) {
    throw new Error(`${name} set has ${data.features} features per example, model '${graph.name}' takes ${graph.inputFeatures}`);
  }
  if ((data.dtype ?? 'uint8') !== graph.inputDtype) {
    throw new Error(`${name} set holds ${data.dtype ?? 'uint8'} features, model '${graph.name}' was compiled for ${graph.inputDtype}`);
  }
  if (!(data.count > 0)) throw new Error(`${name} set is empty`);
  if (data.images.length < featureBytes(data, data.count) || data.labels.length < data.count) {
    throw new Error(`${name} set is inconsistent: ${data.count} examples but ${data.images.length} pixel bytes and ${data.labels.length} labels`);
  }
}

/** The first non-finite value in the parameters, as text ("NaN", "Infinity"), or null if all are finite. */
function firstNonFinite(params: Float32Array[]): string | null {
  for (const p of params) {
    for (let i = 0; i < p.length; i++) {
      const v = p[i];
      if (v - v !== 0) return String(v); // NaN - NaN and ±Inf - ±Inf are NaN
    }
  }
  return null;
}

/**
 * Train `graph` on `backend`, which must have been prepared with the graph
 * (backend.prepare(graph, params)): uploads data.train (and data.test),
 * then runs `options.epochs` epochs. See the top of this file.
 */
export async function fit(backend: Backend, graph: Graph, data: FitData, options: FitOptions): Promise<FitResult> {
  const { epochs, shuffle, seed, signal } = options;
  const emit = options.onEvent ?? (() => {});
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`fit: epochs must be a positive integer, got ${epochs}`);
  checkDataset('training', data.train, graph);
  if (data.test) checkDataset('test', data.test, graph);
  if (data.validation) checkDataset('validation', data.validation, graph);

  const count = data.train.count;
  const B = graph.batchSize;
  const steps = stepsPerEpoch(count, B);
  const chunk = Math.max(1, Math.floor(options.progressEvery ?? defaultProgressEvery(steps)));
  const snapshotMs = Math.max(0, options.snapshotSeconds ?? 1) * 1000;
  const resume = options.resume ?? initialTrainState(graph.optimizer.learningRate, count);
  if (resume.trainExamples !== count) throw new Error(`fit: the run to resume had ${resume.trainExamples} training examples, this one has ${count}`);
  if (resume.stepInEpoch >= steps) throw new Error(`fit: the run to resume stopped at step ${resume.stepInEpoch} of an epoch of ${steps} steps`);

  await backend.setDataset('train', data.train);
  if (data.test) await backend.setDataset('test', data.test);
  if (data.validation) await backend.setDataset('validation', data.validation);
  await backend.readMetrics(); // discard anything accumulated before

  const t0 = now();
  let snapshot = await backend.readParams();
  const initialBad = firstNonFinite(snapshot);
  if (initialBad !== null) throw new Error(`fit: the initial parameters contain ${initialBad}`);
  let snapshotAt: RestorePoint = { epoch: resume.epoch + 1, step: resume.stepInEpoch, globalStep: resume.globalStep };
  let snapshotTime = t0;

  /** A backend call of the training loop: its failure becomes TrainingFailedError with the last good snapshot. */
  const onBackend = async <T>(where: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (e) {
      throw new TrainingFailedError(where, e, snapshotAt, snapshot);
    }
  };

  const restore = async (): Promise<void> => {
    await backend.writeParams(snapshot);
    await backend.resetOptimizer();
  };

  emit({ type: 'start', epochs, stepsPerEpoch: steps, batchSize: B, samples: count, backend: backend.name, description: backend.description });

  const results: EpochResult[] = [...resume.history];
  let globalStep = resume.globalStep;
  let epochNow = resume.epoch;
  /** The unfinished epoch's position and sums (what a checkpoint of an interrupted epoch holds). */
  let stepInEpoch = resume.stepInEpoch;
  let partial = { ...resume.partial };
  let stoppedEarly: FitResult['stoppedEarly'];
  /** Read through a call: control.stop sets it inside callbacks, which TypeScript's narrowing does not see. */
  const early = () => stoppedEarly;
  const callbacks = options.callbacks ?? [];
  const control: TrainControl = {
    epochs,
    stop: (reason) => { stoppedEarly = { epoch: epochNow, reason }; },
    readParams: () => onBackend(`in a callback after epoch ${epochNow}`, () => backend.readParams()),
    writeParams: async (params) => {
      await onBackend(`in a callback after epoch ${epochNow}`, () => backend.writeParams(params));
      snapshot = params.map((p) => p.slice());
    },
    get learningRate() { return graph.optimizer.learningRate; },
    set learningRate(lr: number) {
      // As Keras: a learning-rate schedule is not settable (validation refuses reduce_lr_on_plateau with one).
      if (graph.optimizer.schedule) throw new Error(`the optimizer's learning rate is a ${graph.optimizer.schedule.type} schedule, so it cannot be set`);
      graph.optimizer.learningRate = lr;
    },
    note: (message) => emit({ type: 'note', epoch: epochNow, message }),
    state: () => ({
      epoch: epochNow, stepInEpoch, globalStep, partial: { ...partial }, learningRate: graph.optimizer.learningRate,
      history: results.map((r) => ({ ...r })), callbacks: callbacks.map((c) => c.getState?.() ?? null), trainExamples: count,
    }),
  };
  callbacks.forEach((c, i) => {
    c.onTrainBegin?.(control);
    const saved = resume.callbacks[i];
    if (saved && saved.type === c.type) c.setState?.(saved);
  });
  const stop = (stoppedAt: { epoch: number; step: number; steps: number }): FitResult => {
    const seconds = (now() - t0) / 1000;
    emit({ type: 'end', epochs, seconds, aborted: true });
    return { epochs: results, steps: globalStep, seconds, aborted: true, stoppedAt, state: control.state() };
  };
  const order = new Uint32Array(count);
  for (let e = resume.epoch; e < epochs; e++) {
    const epoch = e + 1;
    if (early()) break;
    const first = e === resume.epoch ? resume.stepInEpoch : 0;
    if (signal?.aborted) return stop(first > 0 ? { epoch, step: first, steps } : e === 0 ? { epoch: 1, step: 0, steps } : { epoch: e, step: steps, steps });
    await onBackend(`at the start of epoch ${epoch}`, () => backend.setOrder(epochOrder(count, seed, e, shuffle, order)));
    emit({ type: 'epoch-start', epoch, epochs, steps });
    const te = now();
    // With a schedule: the rate of the epoch's first step (before the resumed step, when resuming mid-epoch).
    const learningRate = learningRateAt(graph.optimizer, globalStep - first);
    let { lossSum, correct, samples } = first > 0 ? resume.partial : { lossSum: 0, correct: 0, samples: 0 };
    const sums = new Array<number>(graph.metricAccumulators).fill(0);
    if (first > 0) resume.partial.sums?.forEach((v, k) => { sums[k] = v; });
    const means = () => metricValues(graph.metrics, { lossSum, correct, samples, sums }, graph.scoredPositions);
    for (let s = first; s < steps; ) {
      stepInEpoch = s;
      partial = { lossSum, correct, samples, sums: [...sums] };
      if (s > first && signal?.aborted) return stop({ epoch, step: s, steps });
      const n = Math.min(chunk, steps - s);
      const within = n === 1 ? `in epoch ${epoch} at step ${s + 1}` : `in epoch ${epoch} within steps ${s + 1}–${s + n}`;
      const m = await onBackend(within, async () => {
        await backend.trainSteps(s, n, globalStep);
        return backend.readMetrics();
      });
      if (!Number.isFinite(m.lossSum)) {
        await restore();
        throw new TrainingDivergedError('loss', String(m.lossSum), epoch, s + 1, s + n, snapshotAt);
      }
      s += n;
      globalStep += n;
      lossSum += m.lossSum;
      correct += m.correct;
      samples += m.samples;
      m.sums.forEach((v, k) => { sums[k]! += v; });

      const t = now();
      if (s === steps || t - snapshotTime >= snapshotMs) {
        const params = await onBackend(`in epoch ${epoch} after step ${s}`, () => backend.readParams());
        const bad = firstNonFinite(params);
        if (bad !== null) {
          await restore();
          const first = snapshotAt.epoch === epoch ? snapshotAt.step + 1 : 1;
          throw new TrainingDivergedError('parameters', bad, epoch, first, s, snapshotAt);
        }
        snapshot = params;
        snapshotAt = { epoch, step: s, globalStep };
        snapshotTime = t;
      }

      const elapsed = (now() - te) / 1000;
      const rate = elapsed > 0 ? samples / elapsed : 0;
      emit({
        type: 'progress', epoch, epochs, step: s, steps, samples,
        loss: lossSum / samples, accuracy: correct / (samples * graph.scoredPositions), metrics: means(),
        samplesPerSec: rate, etaSeconds: rate > 0 ? (count - samples) / rate : 0, globalStep,
      });
      await yieldToEventLoop();
    }
    const v = data.validation ? await onBackend(`while validating after epoch ${epoch}`, () => backend.evaluate('validation')) : undefined;
    const r: EpochResult = {
      epoch, loss: lossSum / samples, accuracy: correct / (samples * graph.scoredPositions), metrics: means(), samples, seconds: (now() - te) / 1000, learningRate,
      ...(v ? { valLoss: v.loss, valAccuracy: v.accuracy, valMetrics: v.metrics } : {}),
    };
    results.push(r);
    emit({ type: 'epoch', epochs, ...r });
    epochNow = epoch;
    stepInEpoch = 0;
    partial = { lossSum: 0, correct: 0, samples: 0 };
    const logs = epochLogs(r);
    for (const c of callbacks) await c.onEpochEnd(e, logs, control);
    for (const c of callbacks) await c.afterEpoch?.(e, logs, control);
    const stopped = early();
    if (stopped) control.note(stopped.reason);
  }

  if (signal?.aborted) return stop({ epoch: results.length, step: steps, steps });
  for (const c of callbacks) await c.onTrainEnd?.(control);
  const test = data.test ? await onBackend('while evaluating the test set after the last epoch', () => backend.evaluate('test')) : undefined;
  const seconds = (now() - t0) / 1000;
  emit({ type: 'end', epochs, seconds, aborted: false, ...(test ? { test } : {}) });
  return { epochs: results, steps: globalStep, seconds, aborted: false, ...(test ? { test } : {}), ...(early() ? { stoppedEarly: early() } : {}), state: control.state() };
}

/** An epoch's logs under Keras's names: loss, each metric, val_loss and each val_ metric, learning_rate. */
export function epochLogs(r: EpochResult): EpochLogs {
  const logs: EpochLogs = { loss: r.loss, ...r.metrics, learning_rate: r.learningRate };
  if (r.valLoss !== undefined) {
    logs.val_loss = r.valLoss;
    for (const [name, value] of Object.entries(r.valMetrics ?? {})) logs[`val_${name}`] = value;
  }
  return logs;
}

/** Loss and metrics over a resident dataset (dropout off). */
export function evaluate(backend: Backend, slot: DatasetSlot): Promise<EvalResult> {
  return backend.evaluate(slot);
}

export { predict, type Prediction } from './predict.js';
