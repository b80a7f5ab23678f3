// The interface every backend (js, wasm, webgpu) implements. It is shaped so
// that a backend can keep everything resident: the datasets are uploaded
// once as bytes, each epoch uploads only an order (a permutation of example
// indices), and `trainSteps` runs many whole steps (gather, forward, loss,
// backward, Adam) without the host touching a tensor in between. Loss and
// correct counts accumulate inside the backend and are read only by
// `readMetrics`, once per progress update.

import type { Graph } from './graph.js';

export type BackendName = 'js' | 'wasm' | 'webgpu';

export type { DatasetTensors } from '../data/types.js';
import type { DatasetTensors } from '../data/types.js';

/** Resident datasets, keyed by name in every backend: training, the test set, and the per-epoch validation set. */
export type DatasetSlot = 'train' | 'test' | 'validation';

/**
 * Sums since the last readMetrics(): divide by `samples` for the mean loss
 * and accuracy. `sums` are the metric ops' accumulators (graph.metrics says
 * which metric each is; src/runtime/losses metricValues turns them into values).
 */
export interface TrainMetrics { lossSum: number; correct: number; samples: number; sums: number[] }

/** Over a dataset: the loss, the fused correct count as accuracy, and every metric of graph.metrics by name. */
export interface EvalResult { loss: number; accuracy: number; correct: number; samples: number; metrics: Record<string, number> }

export interface Backend {
  readonly name: BackendName;
  /** One line for people: what runs and on what (e.g. "wasm (SIMD, relaxed FMA)"). */
  readonly description: string;
  /**
   * Allocate every buffer of `graph` (sized for graph.batchSize), upload the
   * initial parameters (graph.params order) and zero the Adam moments.
   */
  prepare(graph: Graph, params: Float32Array[]): Promise<void>;
  /** Upload a dataset once; it stays resident until dispose(). */
  setDataset(slot: DatasetSlot, data: DatasetTensors): Promise<void>;
  /** The order of training examples for the following steps (length = train count). */
  setOrder(order: Uint32Array): Promise<void>;
  /**
   * Run `steps` training steps on the train set. Step s (0 <= s < steps)
   * uses examples order[(firstBatch + s) · B …] with rows = min(B, count −
   * start) (the last batch of an epoch may be partial); its global step
   * index is g = globalStep + s: dropout uses rngKey(seed, stream, g), Adam
   * uses t = g + 1. Metrics accumulate until readMetrics().
   *
   * The learning rate is graph.optimizer.learningRate as it is at this call
   * (wasm passes it to the kernel, webgpu computes each step's Adam step
   * size from it on the host, js reads it per op): changing it between
   * calls, as reduce_lr_on_plateau does between epochs, is how a trainer
   * sets a new rate. The other optimizer settings are fixed at prepare().
   */
  trainSteps(firstBatch: number, steps: number, globalStep: number): Promise<void>;
  /** Read, then reset, the metrics accumulated by trainSteps. */
  readMetrics(): Promise<TrainMetrics>;
  /** Loss and accuracy over a whole resident dataset, dropout off. */
  evaluate(slot: DatasetSlot): Promise<EvalResult>;
  /** Predictions [count × graph.outputs] for `count` images of uint8 pixels: class probabilities, or the outputs (graph.prediction). */
  predict(images: Uint8Array, count: number): Promise<Float32Array>;
  /** Current parameters, graph.params order (copies). */
  readParams(): Promise<Float32Array[]>;
  /** Replace the parameters (graph.params order); Adam moments are left as they are. */
  writeParams(params: Float32Array[]): Promise<void>;
  /** Zero the Adam moments (e.g. after restoring weights to start a new run). */
  resetOptimizer(): Promise<void>;
  /**
   * Copies of whole-model graph buffers (not per-row ones) by name, each of
   * its `floats` values: parameters, optimizer state (Adam's m and v, …),
   * any other state a layer keeps. Checkpoints read everything they save
   * through this (src/runtime/checkpoint.ts).
   */
  readBuffers(names: readonly string[]): Promise<Float32Array[]>;
  /** Overwrite whole-model graph buffers by name (a checkpoint's state on resume); each takes its `floats` values. */
  writeBuffers(buffers: readonly { name: string; data: Float32Array }[]): Promise<void>;
  dispose(): void;
}
