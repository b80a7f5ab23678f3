// The `js` backend: the graph interpreted op by op on the TypeScript
// reference kernels. Slow but obviously right: it is the executable meaning
// of a Graph, and what the wasm and webgpu backends are tested against.

import type { Backend, DatasetSlot, DatasetTensors, EvalResult, TrainMetrics } from '../backend.js';
import type { Graph, Op } from '../graph.js';
import { defOf } from '../../ops/index.js';
import { metricValues } from '../losses/index.js';
import { predictRows } from '../losses/prediction.js';
import { checkTargets, targetShape } from '../targets.js';
import type { RefEnv } from '../../ops/types.js';
import { learningRateAt } from '../optimizers/index.js';

export class JsBackend implements Backend {
  readonly name = 'js' as const;
  readonly description = 'js (TypeScript reference kernels, single thread)';
  private graph!: Graph;
  /** One Float32Array per storage slot; buffers are views of their slot. */
  private buffers = new Map<string, Float32Array>();
  private labels = new Uint8Array(0);
  private datasets: Partial<Record<DatasetSlot, DatasetTensors>> = {};
  private order = new Uint32Array(0);
  private metrics: TrainMetrics = { lossSum: 0, correct: 0, samples: 0, sums: [] };
  /** The optimizer as the current step's ops see it: the step's learning rate (its schedule's). */
  private stepOptimizer: RefEnv['optimizer'] = { learningRate: 0, beta1: 0, beta2: 0, epsilon: 0 };

  async prepare(graph: Graph, params: Float32Array[]): Promise<void> {
    this.graph = graph;
    const slots = graph.slots.map((s) => new Float32Array(s.perRow ? s.floats * graph.batchSize : s.floats));
    for (const b of graph.buffers) {
      const slot = slots[b.slot];
      this.buffers.set(b.name, slot.subarray(0, b.perRow ? b.floats * graph.batchSize : b.floats));
    }
    this.labels = new Uint8Array(graph.batchSize);
    this.metrics = this.zeroMetrics();
    await this.writeParams(params);
  }

  async setDataset(slot: DatasetSlot, data: DatasetTensors): Promise<void> {
    this.datasets[slot] = data;
  }

  async setOrder(order: Uint32Array): Promise<void> {
    this.order = order.slice();
  }

  async trainSteps(firstBatch: number, steps: number, globalStep: number): Promise<void> {
    const data = this.need('train');
    checkTargets('train', targetShape(data), this.graph.targetWidth);
    const B = this.graph.batchSize;
    for (let s = 0; s < steps; s++) {
      const start = (firstBatch + s) * B;
      const rows = Math.min(B, data.count - start);
      if (rows <= 0) throw new Error(`trainSteps: batch ${firstBatch + s} is past the end of the training set`);
      const step = globalStep + s;
      this.stepOptimizer = { ...this.graph.optimizer, learningRate: learningRateAt(this.graph.optimizer, step) };
      for (const op of this.graph.forward) this.run(op, rows, step, data, this.order, start);
      for (const op of this.graph.backward) this.run(op, rows, step, data, this.order, start);
      for (const op of this.graph.update) this.run(op, rows, step, data, this.order, start);
    }
  }

  async readMetrics(): Promise<TrainMetrics> {
    const m = this.metrics;
    this.metrics = this.zeroMetrics();
    return m;
  }

  async evaluate(slot: DatasetSlot): Promise<EvalResult> {
    const data = this.need(slot);
    checkTargets(slot, targetShape(data), this.graph.targetWidth);
    const identity = Uint32Array.from({ length: data.count }, (_, i) => i);
    const saved = this.metrics;
    this.metrics = this.zeroMetrics();
    for (let start = 0; start < data.count; start += this.graph.batchSize) {
      const rows = Math.min(this.graph.batchSize, data.count - start);
      for (const op of this.graph.inference) this.run(op, rows, 0, data, identity, start);
    }
    const m = this.metrics;
    this.metrics = saved;
    return { loss: m.lossSum / m.samples, accuracy: m.correct / (m.samples * this.graph.scoredPositions), correct: m.correct, samples: m.samples, metrics: metricValues(this.graph.metrics, m, this.graph.scoredPositions) };
  }

  async predict(images: Uint8Array, count: number): Promise<Float32Array> {
    const { inputFeatures: F, outputs: C, batchSize: B, lossOps } = this.graph;
    const data: DatasetTensors = { images, labels: new Uint8Array(count), count, features: F, dtype: this.graph.inputDtype };
    const identity = Uint32Array.from({ length: count }, (_, i) => i);
    const out = new Float32Array(count * C);
    for (let start = 0; start < count; start += B) {
      const rows = Math.min(B, count - start);
      // Up to the logits: no targets, no loss.
      for (const op of this.graph.inference.slice(0, -lossOps)) if (op.kind !== 'gather_targets') this.run(op, rows, 0, data, identity, start);
      predictRows(this.graph.prediction, this.buf(this.graph.logits), out.subarray(start * C), rows, C);
    }
    return out;
  }

  async readParams(): Promise<Float32Array[]> {
    return this.graph.params.map((p) => this.buf(p.name).slice());
  }

  async writeParams(params: Float32Array[]): Promise<void> {
    this.graph.params.forEach((p, i) => this.buf(p.name).set(params[i]));
  }

  async resetOptimizer(): Promise<void> {
    for (const p of this.graph.params) for (const s of p.state) this.buf(s).fill(0);
  }

  async readBuffers(names: readonly string[]): Promise<Float32Array[]> {
    return names.map((n) => this.buf(this.whole(n)).slice());
  }

  async writeBuffers(buffers: readonly { name: string; data: Float32Array }[]): Promise<void> {
    for (const { name, data } of buffers) {
      const b = this.buf(this.whole(name));
      if (data.length !== b.length) throw new Error(`graph buffer '${name}': expected ${b.length} values, got ${data.length}`);
      b.set(data);
    }
  }

  /** The name, checked to be a whole-model (not per-row) buffer. */
  private whole(name: string): string {
    if (this.graph.buffers.find((b) => b.name === name)?.perRow) throw new Error(`graph buffer '${name}' is per-row; only whole-model buffers can be read or written by name`);
    return name;
  }

  /** Test hook: a copy of a graph buffer's current contents (per-row buffers hold batchSize rows; e.g. the gradients of the last step). */
  readBuffer(name: string): Float32Array {
    return this.buf(name).slice();
  }

  dispose(): void {
    this.buffers.clear();
    this.datasets = {};
  }

  private zeroMetrics(): TrainMetrics {
    return { lossSum: 0, correct: 0, samples: 0, sums: new Array<number>(this.graph.metricAccumulators).fill(0) };
  }

  private need(slot: DatasetSlot): DatasetTensors {
    const d = this.datasets[slot];
    if (!d) throw new Error(`no ${slot} dataset was uploaded to the js backend`);
    return d;
  }

  private buf(name: string): Float32Array {
    const b = this.buffers.get(name);
    if (!b) throw new Error(`graph buffer '${name}' was not allocated`);
    return b;
  }

  /** One op through its registered reference implementation (src/ops). */
  private run(op: Op, rows: number, step: number, data: DatasetTensors, order: Uint32Array, start: number): void {
    const g = this.graph;
    defOf(op).reference(op, {
      buf: (name) => this.buf(name),
      rows, step, seed: g.seed,
      labels: this.labels,
      optimizer: this.stepOptimizer,
      addMetrics: (lossSum, correct, n) => { this.metrics.lossSum += lossSum; this.metrics.correct += correct; this.metrics.samples += n; },
      addMetric: (k, sum) => { this.metrics.sums[k]! += sum; },
      data: { images: data.images, labels: data.labels, order, start, ...(data.targets ? { targets: data.targets, targetWidth: data.targetWidth } : {}) },
    });
  }
}

