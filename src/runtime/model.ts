// A model in one object: YAML (or a validated spec) -> graph -> backend ->
// fit / evaluate / predict, with weights in and out as safetensors bytes.
// Browser-safe (no Node imports); the same class runs in Node, given a
// backend instance, or a GPU object plus registered backend factories.
// Training is the trainer's fit (trainer.ts); backends come from
// createBackend (select.ts).
//
//   const model = await createModel(yamlText);              // in a page: navigator.gpu
//   await model.fit(train, { test, onEvent: (e) => console.log(e) });
//   const probs = await model.predict(images, n);           // n × 10 probabilities
//   const bytes = await model.saveWeights();                 // .safetensors
//
// The backend follows the spec's `backend:` (auto | webgpu | wasm | js)
// unless options.backend overrides it; `model.backendChoice` says which
// backend runs and why (a page shows "WASM: navigator.gpu missing").
//
// This is the one way a model is built, in a page and in the CLI alike:
// Model.plan (spec -> graph), then Model.open (backend + weights). createModel
// does both; the CLI runs them apart so that it can check a weights file
// against the graph, and load a model file's custom kernels into the
// backend, before anything is prepared.

import { ConfigErrors } from '../config/errors.js';
import type { BackendKind, ModelSpec } from '../config/types.js';
import { validateModelConfig } from '../config/validate.js';
import type { Backend, DatasetTensors, EvalResult } from './backend.js';
import { bytesPerFeature, type DataFacts } from '../data/types.js';
import { compileGraph, type Graph } from './graph.js';
import { initParams } from './params.js';
import { checkWeightsAgainstGraph, decodeSafetensorsFile, encodeSafetensors } from './safetensors.js';
import { encodeCheckpoint, readCheckpoint, stateBufferNames, weightTensors, type ResumePoint } from './checkpoint.js';
import { callbacksFromSpec } from './callbacks/index.js';
import type { TrainState } from './train-state.js';
import { splitValidation } from '../data/split.js';
import { createBackend } from './select.js';
import { fit, predict, type FitResult, type Prediction, type TrainEvent } from './trainer.js';
import { graphOptimizer } from './optimizers/index.js';

export interface BackendChoice {
  name: Backend['name'];
  /** The backend's own one-line description. */
  description: string;
  /**
   * Why this backend, for people: the adapter for WebGPU, or why WebGPU was
   * not taken (e.g. "navigator.gpu missing"); for a backend asked for by
   * name, "requested <name>".
   */
  reason: string;
  /** createBackend's full reason line (select.ts). */
  detail: string;
}

export interface CreateModelOptions {
  /** Labels diagnostics when `source` is YAML text (default 'model.yaml'). */
  fileName?: string;
  /** A backend kind to use instead of the spec's, or a backend instance (not yet prepared). */
  backend?: BackendKind | Backend;
  /**
   * The WebGPU entry point: navigator.gpu in a page (the default there),
   * Dawn's GPU in Node. null = no WebGPU. Backends are made by the factories
   * registered with registerBackendFactory (the browser entry registers wasm
   * and webgpu).
   */
  gpu?: GPU | null;
  /** Why there is no GPU, for the reason line (default in a page: "navigator.gpu missing"). */
  gpuReason?: string;
  /** Override training.batch_size. */
  batchSize?: number;
  /** What the data holds (a loader's facts): YAML text is checked against it, and a left-out input_shape is taken from it. */
  data?: DataFacts;
  /**
   * Starting weights in graph.params order (e.g. a weights file checked
   * against plan.graph), instead of the seed's initial ones.
   */
  weights?: Float32Array[];
}

/** A validated spec and its compiled graph: everything of a model that needs no backend. */
export interface ModelPlan {
  readonly spec: ModelSpec;
  readonly graph: Graph;
}

/** The means over the steps since the previous progress event: the "step window" a live plot shows. */
export interface StepWindow { loss: number; accuracy: number; samples: number; steps: number }

/** The trainer's events; progress events also carry the step window's means. */
export type ModelEvent = Exclude<TrainEvent, { type: 'progress' }> | (Extract<TrainEvent, { type: 'progress' }> & { window: StepWindow });

export interface ModelFitOptions {
  /** Default: the spec's training.epochs. */
  epochs?: number;
  /** Default: the spec's training.shuffle. */
  shuffle?: boolean;
  /** Evaluated after the last epoch when given (result.test). */
  test?: DatasetTensors;
  /**
   * Evaluated after every epoch (val_loss, val_accuracy). Default: the last
   * training.validation_split of `train`, held out, when the spec has one.
   */
  validation?: DatasetTensors;
  onEvent?: (event: ModelEvent) => void;
  /** Stops after the current chunk of steps; the weights so far are kept (result.aborted). */
  signal?: AbortSignal;
  /**
   * Awaited after every epoch, after the spec's callbacks (epoch counts from
   * 1): training waits for it, so it may use the model (the page samples text
   * from the current weights here).
   */
  onEpochEnd?: (epoch: number) => void | Promise<void>;
  /** Training steps per progress event (default: about 20 per epoch). */
  progressEvery?: number;
  /** Continue a run: the position restoreCheckpoint returned (its weights and optimizer state are already in place). */
  resume?: TrainState;
  /** Writes a model_checkpoint file (the CLI: atomically); without it, model_checkpoint only notes that nothing was saved. */
  writeFile?: (path: string, bytes: Uint8Array) => Promise<void>;
  /** Added to the metadata of every file model_checkpoint writes. */
  checkpointMetadata?: Record<string, string>;
}

function defaultGpu(): { gpu: GPU | null; gpuReason?: string } {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return { gpu: nav.gpu };
  return { gpu: null, gpuReason: nav ? 'navigator.gpu missing' : 'no WebGPU entry point given' };
}

async function openBackend(kind: BackendKind, options: { gpu?: GPU | null; gpuReason?: string }): Promise<{ backend: Backend; choice: BackendChoice }> {
  const env = options.gpu === undefined ? defaultGpu() : { gpu: options.gpu, gpuReason: options.gpuReason ?? (options.gpu ? undefined : 'no WebGPU') };
  const { backend, reason } = await createBackend(kind, env);
  let why: string;
  if (backend.name === 'webgpu') why = backend.description.replace(/^webgpu \((.*)\)$/, '$1');
  else if (kind !== 'auto') why = reason;
  else why = /no WebGPU \((.*?)\)(, no wasm|, using)/.exec(reason)?.[1] ?? /^auto: (webgpu adapter is .*?), (?:no wasm|using) /.exec(reason)?.[1] ?? reason;
  return { backend, choice: { name: backend.name, description: backend.description, reason: why, detail: reason } };
}

/** Which backend `kind` gives here, and why, without preparing a model (for a page's status line). */
export async function describeBackendChoice(kind: BackendKind, options: { gpu?: GPU | null; gpuReason?: string } = {}): Promise<BackendChoice> {
  const { backend, choice } = await openBackend(kind, options);
  backend.dispose();
  return choice;
}

export class Model {
  private disposed = false;

  private constructor(
    readonly spec: ModelSpec,
    readonly graph: Graph,
    readonly backend: Backend,
    readonly backendChoice: BackendChoice,
  ) {}

  /** See createModel. */
  static async create(source: string | ModelSpec, options: CreateModelOptions = {}): Promise<Model> {
    return Model.open(Model.plan(source, options), options);
  }

  /** Validates YAML text (or takes a spec) and compiles its graph. Throws ConfigErrors for an invalid model. */
  static plan(source: string | ModelSpec, options: Pick<CreateModelOptions, 'fileName' | 'batchSize' | 'data'> = {}): ModelPlan {
    let spec: ModelSpec;
    if (typeof source === 'string') {
      const r = validateModelConfig(source, options.fileName ?? 'model.yaml', options.data ? { data: options.data } : {});
      if (!r.ok) throw new ConfigErrors(r.errors, r.warnings);
      spec = r.spec;
    } else {
      spec = source;
    }
    return { spec, graph: compileGraph(spec, options.batchSize ?? spec.training.batch_size) };
  }

  /**
   * Opens the backend for a plan (or takes the one given) and prepares it
   * with options.weights, else the seed's initial weights. A backend given
   * as an instance stays the caller's to dispose if this throws; one opened
   * here is disposed.
   */
  static async open(plan: ModelPlan, options: CreateModelOptions = {}): Promise<Model> {
    const { spec, graph } = plan;
    let opened: { backend: Backend; choice: BackendChoice };
    const given = typeof options.backend === 'object' && options.backend !== null;
    if (given) {
      const b = options.backend as Backend;
      opened = { backend: b, choice: { name: b.name, description: b.description, reason: 'given by the caller', detail: 'given by the caller' } };
    } else {
      opened = await openBackend((options.backend as BackendKind | undefined) ?? spec.backend, options);
    }
    try {
      if (options.weights) checkParams(graph, options.weights, 'weights');
      await opened.backend.prepare(graph, options.weights ?? initParams(graph));
    } catch (e) {
      if (!given) opened.backend.dispose();
      throw e;
    }
    return new Model(spec, graph, opened.backend, opened.choice);
  }

  /** Back to the seed's initial weights with fresh optimizer state (a new run from step 0). */
  async reset(): Promise<void> {
    this.live();
    this.graph.optimizer.learningRate = graphOptimizer(this.spec.optimizer).learningRate; // reduce_lr_on_plateau may have lowered it
    await this.backend.writeParams(initParams(this.graph));
    await this.backend.resetOptimizer();
  }

  /**
   * Train on `train` (the trainer's fit, src/runtime/trainer.ts): epochs and
   * shuffle from the spec unless given, the shuffle seeded by the spec's
   * seed. Each call starts the step counter (dropout keys, Adam's t) at 0
   * from the current weights, unless options.resume continues a run
   * (restoreCheckpoint); reset() first for a run from the initial weights.
   * The spec's training.callbacks run after every epoch; validation data is
   * options.validation, else the spec's validation_split of `train`.
   */
  async fit(train: DatasetTensors, options: ModelFitOptions = {}): Promise<FitResult> {
    this.live();
    const emit = options.onEvent;
    let prev = { epoch: 0, step: 0, samples: 0, lossSum: 0, correct: 0 };
    const onEvent = emit
      ? (e: TrainEvent) => {
          if (e.type !== 'progress') return emit(e);
          // The trainer reports running means over the epoch; the window is the difference to the previous event.
          if (e.epoch !== prev.epoch) prev = { epoch: e.epoch, step: 0, samples: 0, lossSum: 0, correct: 0 };
          const lossSum = e.loss * e.samples, correct = Math.round(e.accuracy * e.samples);
          const n = e.samples - prev.samples;
          const window: StepWindow = { loss: (lossSum - prev.lossSum) / n, accuracy: (correct - prev.correct) / n, samples: n, steps: e.step - prev.step };
          prev = { epoch: e.epoch, step: e.step, samples: e.samples, lossSum, correct };
          emit({ ...e, window });
        }
      : undefined;
    const split = this.spec.training.validation_split ?? 0;
    const sets = options.validation ? { train, validation: options.validation } : split > 0 ? splitValidation(train, split) : { train };
    const { writeFile, checkpointMetadata: meta = {} } = options;
    const save = writeFile
      ? async (path: string, weightsOnly: boolean, state: TrainState) => writeFile(path, weightsOnly ? await this.saveWeights(meta) : await this.checkpoint(state, meta))
      : undefined;
    return fit(this.backend, this.graph, { ...sets, ...(options.test ? { test: options.test } : {}) }, {
      callbacks: [
        ...callbacksFromSpec(this.spec.training.callbacks, { ...(save ? { save } : {}) }),
        ...(options.onEpochEnd ? [{ type: 'onEpochEnd', onEpochEnd: (e: number) => options.onEpochEnd!(e + 1) }] : []),
      ],
      ...(options.resume ? { resume: options.resume } : {}),
      epochs: options.epochs ?? this.spec.training.epochs,
      shuffle: options.shuffle ?? this.spec.training.shuffle,
      seed: this.spec.seed,
      ...(options.progressEvery ? { progressEvery: options.progressEvery } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(onEvent ? { onEvent } : {}),
    });
  }

  /** Loss and accuracy over a dataset, dropout off. */
  async evaluate(data: DatasetTensors): Promise<EvalResult> {
    this.live();
    await this.backend.setDataset('test', data);
    return this.backend.evaluate('test');
  }

  /** Class probabilities [count × classes] for `count` images of graph.inputFeatures uint8 pixels each. */
  async predict(images: Uint8Array, count: number): Promise<Float32Array> {
    return this.backend.predict(this.batchOf(images, count), count);
  }

  /** predict, plus the most probable class of each image (the trainer's predict). */
  async classify(images: Uint8Array, count: number): Promise<Prediction> {
    return predict(this.backend, this.batchOf(images, count), count);
  }

  /** Copies of the parameters, graph.params order. */
  getWeights(): Promise<Float32Array[]> {
    this.live();
    return this.backend.readParams();
  }

  async setWeights(params: Float32Array[]): Promise<void> {
    this.live();
    checkParams(this.graph, params, 'setWeights');
    await this.backend.writeParams(params);
    await this.backend.resetOptimizer();
  }

  /** Load a .safetensors file's bytes (weights, or a checkpoint's weights; checked against the model); returns the file's metadata. */
  async loadWeights(bytes: Uint8Array, source = 'weights.safetensors'): Promise<Record<string, string>> {
    const file = decodeSafetensorsFile(bytes, source);
    await this.setWeights(checkWeightsAgainstGraph(weightTensors(file), this.graph, source));
    return file.metadata;
  }

  /**
   * A resumable checkpoint of this model at `state` (FitResult.state, or
   * TrainControl.state() in a callback) as .safetensors bytes: the weights,
   * every optimizer-state buffer and the position (src/runtime/checkpoint.ts).
   */
  async checkpoint(state: TrainState, metadata: Record<string, string> = {}): Promise<Uint8Array> {
    this.live();
    const params = await this.backend.readParams();
    const buffers = await this.backend.readBuffers(stateBufferNames(this.graph));
    return encodeCheckpoint(this.spec, this.graph, { params, state: buffers, train: state }, { backend: this.backend.name, ...metadata });
  }

  /**
   * Load a checkpoint to continue training on a set of `trainExamples`
   * examples (after any validation_split): refused, listing every
   * difference, when it is of another model, optimizer or batch sequence.
   * Writes its weights and optimizer state to the backend and its learning
   * rate to the graph (the model file's rate instead when that was changed);
   * pass the returned point's `train` to fit as `resume`.
   */
  async restoreCheckpoint(bytes: Uint8Array, source: string, trainExamples: number): Promise<ResumePoint> {
    this.live();
    const point = readCheckpoint(bytes, source, this.spec, this.graph, trainExamples);
    await this.backend.writeParams(point.params);
    await this.backend.writeBuffers(point.state);
    if (point.learningRateChanged) point.train.learningRate = graphOptimizer(this.spec.optimizer).learningRate;
    this.graph.optimizer.learningRate = point.train.learningRate;
    return point;
  }

  /** The current weights as .safetensors bytes (tensor names = graph parameter names). */
  async saveWeights(metadata: Record<string, string> = {}): Promise<Uint8Array> {
    const params = await this.getWeights();
    return encodeSafetensors(this.graph.params.map((p, i) => ({ name: p.name, shape: p.shape, data: params[i] })), { model: this.graph.name, ...metadata });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.backend.dispose();
  }

  /** The first `count` images' pixels, checked to be there. */
  private batchOf(images: Uint8Array, count: number): Uint8Array {
    this.live();
    const bytes = count * this.graph.inputFeatures * bytesPerFeature(this.graph.inputDtype);
    if (images.length < bytes) throw new Error(`predict: ${count} examples need ${bytes} bytes of ${this.graph.inputDtype} features, got ${images.length}`);
    return images.subarray(0, bytes);
  }

  private live(): void {
    if (this.disposed) throw new Error('this model was disposed');
  }
}

/** One tensor per parameter of the graph, each of the parameter's size. */
function checkParams(graph: Graph, params: Float32Array[], what: string): void {
  if (params.length !== graph.params.length) throw new Error(`${what}: ${params.length} tensors for ${graph.params.length} parameters`);
  graph.params.forEach((p, i) => {
    if (params[i].length !== p.size) throw new Error(`${what}: ${p.name} needs ${p.size} values, got ${params[i].length}`);
  });
}

/** Validate YAML text (or take a spec), compile it, open and prepare its backend. Throws ConfigErrors for an invalid model. */
export function createModel(source: string | ModelSpec, options: CreateModelOptions = {}): Promise<Model> {
  return Model.create(source, options);
}
