// The `wasm` backend: the Graph's plan run by the AssemblyScript SIMD kernels
// (kernels/as) inside one WebAssembly instance. Everything lives in linear
// memory, allocated once: the datasets (as bytes), the order, every graph
// slot, parameters, gradients, optimizer state, transposed copies of the
// kernels that dense_backward_input reads, labels and metric accumulators.
// trainSteps, evaluate and predict are one exported call each; nothing is
// allocated on the JavaScript side per step. Browser-safe (no Node imports).
// With threads > 1 the memory is shared and those calls run on a pool of
// workers (src/runtime/wasm/threads.ts, kernels/as/threads.ts), with the
// same numbers as one thread.

import type { Backend, DatasetSlot, DatasetTensors, EvalResult, TrainMetrics } from '../backend.js';
import { bytesPerFeature, featureBytes } from '../../data/types.js';
import type { Graph, Op } from '../graph.js';
import { chooseVariant, Heap, instantiateKernelsWith, threadsUnsupported, type CustomWasmKernel, type CustomWasmOp, type KernelExports, type WasmVariant } from '../wasm/module.js';
import { metricValues } from '../losses/index.js';
import { checkTargets, type TargetShape } from '../targets.js';
import { encodeRecord, inferenceRecords, layoutFor, OP_WORDS, packPlan, trainRecords, transposedKernels } from '../wasm/plan.js';
import { planStats, type ThreadPlanContext } from '../wasm/schedule.js';
import { learningRateAt } from '../optimizers/index.js';
import { CMD_INFER, CMD_TRAIN, WasmThreadPool, type ControlLayout } from '../wasm/threads.js';
import { workerSpawner } from '../wasm/workers.js';

export interface WasmBackendOptions {
  /** Use the relaxed-SIMD (FMA) build: true requires it, 'auto' (default) takes it when the engine validates it. */
  relaxed?: boolean | 'auto';
  /**
   * Users' kernels (compiled modules sharing the backend's memory; see
   * src/custom/assemblyscript.ts) that replace the built-in kernels of ops in training,
   * evaluation and prediction. The plan calls them from inside the step loop.
   */
  customKernels?: Partial<Record<CustomWasmOp, CustomWasmKernel>>;
  /**
   * Worker threads over one shared memory: a count, or 'auto' (default): the
   * available cores where workers and shared memory exist, else 1. Results
   * are bit-identical at any count.
   */
  threads?: number | 'auto';
  /** Where `threads` came from, for the description (e.g. '--threads 2'). */
  threadsSource?: string;
  /** Tests: make worker `worker` (0-based) trap at global step `step`, or fail to start. */
  threadFault?: { worker: number; step?: number; start?: boolean };
  /** Tests and benches: false keeps a max pool's backward and the conv dW below it as two records on one thread (src/runtime/wasm/fuse.ts). */
  fuseRecords?: boolean;
}

/** How many threads the backend runs, and why (the description says it). */
export function resolveThreads(options: WasmBackendOptions, variant: WasmVariant): { threads: number; why: string } {
  const asked = options.threads ?? 'auto';
  const spawner = workerSpawner();
  const custom = Object.values(options.customKernels ?? {}).some((k) => k !== undefined);
  const blocker = custom ? 'custom kernels run on one thread' : (spawner === null ? 'no worker support here' : spawner.unavailable()) ?? threadsUnsupported(variant);
  if (asked === 'auto') {
    if (blocker) return { threads: 1, why: blocker };
    const { count, reason } = spawner!.cores();
    return { threads: count, why: reason };
  }
  if (!Number.isInteger(asked) || asked < 1) throw new Error(`threads must be a whole number >= 1 or 'auto', got ${String(asked)}`);
  const source = options.threadsSource ?? `threads: ${asked}`;
  if (asked > 1 && blocker) return { threads: 1, why: `${source} asked, but ${blocker}` };
  return { threads: asked, why: source };
}

interface ResidentData {
  images: number; labels: number; count: number; features: number; imageCapacity: number; labelCapacity: number;
  /** Float targets (0: none), targetWidth per example; targetCapacity floats allocated. */
  targets: number; targetWidth: number; targetCapacity: number;
}

/** f64 lossSum, correct, samples, then one f64 per metric op's accumulator (kernels add theirs at metrics + 24 + 8·k). */
const metricWords = (g: Graph) => 3 + g.metricAccumulators;

export class WasmBackend implements Backend {
  readonly name = 'wasm' as const;
  readonly description: string;
  private readonly heap: Heap;
  private graph!: Graph;
  private ptrs = new Map<string, number>();
  private sizes = new Map<string, number>();
  private transposed = new Map<string, { ptr: number; k: number; n: number }>();
  private labelsPtr = 0;
  private trainPlan = { ptr: 0, ops: 0 };
  private inferPlan = { ptr: 0, ops: 0 };
  private trainMetrics = 0;
  private evalMetrics = 0;
  private data: Partial<Record<DatasetSlot, ResidentData>> = {};
  private order = { ptr: 0, length: 0, capacity: 0 };
  private scratch = { ptr: 0, bytes: 0 };
  /** The f64 learning rate of each step of a trainSteps call. */
  private rates = { ptr: 0, capacity: 0 };
  private disposed = false;
  private pool: WasmThreadPool | null = null;

  private readonly customOps: ReadonlySet<CustomWasmOp>;
  /** Whether the one-thread training plan fuses pool-then-conv-dW record pairs (src/runtime/wasm/fuse.ts). */
  private fuseRecords = true;

  private constructor(
    private readonly k: KernelExports,
    readonly variant: WasmVariant,
    custom: Partial<Record<CustomWasmOp, CustomWasmKernel>>,
    threads: { threads: number; why: string } = { threads: 1, why: 'one thread asked' },
  ) {
    this.heap = new Heap(k);
    const entries = Object.entries(custom).filter((e): e is [CustomWasmOp, CustomWasmKernel] => e[1] !== undefined);
    this.customOps = new Set(entries.map(([op]) => op));
    this.description = (variant === 'relaxed' ? 'wasm (relaxed SIMD, FMA; AssemblyScript kernels' : 'wasm (SIMD128; AssemblyScript kernels') +
      `, ${threads.threads === 1 ? '1 thread' : `${threads.threads} threads`}: ${threads.why})` +
      entries.map(([op, c]) => `; custom ${op}: ${c.label}`).join('');
  }

  static async create(options: WasmBackendOptions = {}): Promise<WasmBackend> {
    const variant = chooseVariant(options.relaxed ?? 'auto');
    const custom = options.customKernels ?? {};
    const threads = resolveThreads(options, variant);
    const made = await instantiateKernelsWith(variant, custom, threads.threads > 1);
    const backend = new WasmBackend(made.exports, variant, custom, threads);
    backend.fuseRecords = options.fuseRecords ?? true;
    if (threads.threads > 1) await backend.startThreads(made.module, threads.threads, options.threadFault);
    return backend;
  }

  /** The number of threads the kernels run on. */
  get threads(): number {
    return this.pool?.threads ?? 1;
  }

  private async startThreads(module: WebAssembly.Module, threads: number, fault: WasmBackendOptions['threadFault']): Promise<void> {
    const k = this.k;
    const at = this.heap.alloc(64);
    k.controlLayout!(at);
    const [gen, done, barN, barGen, abort, cmd, args, f64s, bytes] = this.heap.i32(at, 9);
    const layout: ControlLayout = { gen, done, barN, barGen, abort, cmd, args, f64s, bytes };
    const ctrl = this.heap.alloc(bytes, 64);
    const scratch = Array.from({ length: threads }, () => this.heap.alloc(k.threadScratchBytes!(), 64));
    this.pool = await WasmThreadPool.start({ spawner: workerSpawner()!, module, memory: k.memory, threads, ctrl, layout, scratch, fault });
  }

  /** The training step's records and barriers on the threads, and how many records run split (tests, bench/threads.ts). */
  threadSteps(): { records: number; split: number; barriers: number } {
    return planStats(this.heap.i32(this.trainPlan.ptr, this.trainPlan.ops * OP_WORDS));
  }

  /** How the plans split across the pool's threads (null on one thread). */
  private threadPlan(): ThreadPlanContext | null {
    if (!this.pool) return null;
    return {
      threads: this.pool.threads, batch: this.graph.batchSize, graph: this.graph, labels: this.labelsPtr,
      ptr: (name) => this.ptr(name), bytes: (name) => 4 * this.sizes.get(name)!, alloc: (bytes) => this.heap.alloc(bytes, 64),
      write: (at, words) => this.heap.i32(at, words.length).set(words),
    };
  }

  /** The raw kernel exports and heap (for tests and benchmarks). */
  get kernels(): { exports: KernelExports; heap: Heap } {
    return { exports: this.k, heap: this.heap };
  }

  async prepare(graph: Graph, params: Float32Array[]): Promise<void> {
    this.live();
    this.graph = graph;
    this.ptrs.clear();
    this.sizes.clear();
    this.transposed.clear();
    const B = graph.batchSize;
    const slotPtr = graph.slots.map((s) => this.heap.alloc((s.perRow ? s.floats * B : s.floats) * 4));
    for (const b of graph.buffers) {
      // On threads each gradient keeps its own memory: a slot shared by lifetimes would order a matmul's
      // read of all rows before another thread's rows of the next gradient (a barrier per layer).
      const own = this.pool !== null && b.kind === 'gradient' && graph.buffers.some((o) => o !== b && o.slot === b.slot);
      this.ptrs.set(b.name, own ? this.heap.alloc((b.perRow ? b.floats * B : b.floats) * 4) : slotPtr[b.slot]);
      this.sizes.set(b.name, b.perRow ? b.floats * B : b.floats);
    }
    for (const [w, { k, n }] of transposedKernels(graph)) this.transposed.set(w, { ptr: this.heap.alloc(k * n * 4), k, n });
    this.labelsPtr = this.heap.alloc(B * 4);
    this.trainMetrics = this.heap.alloc(8 * metricWords(graph));
    this.evalMetrics = this.heap.alloc(8 * metricWords(graph));
    this.heap.f64(this.trainMetrics, metricWords(graph)).fill(0);

    const layout = { ptr: (name: string) => this.ptr(name), transposed: (name: string) => this.transposed.get(name)!.ptr, labels: this.labelsPtr };
    const train = packPlan(trainRecords(graph, layout, this.customOps, this.pool === null && this.fuseRecords), this.threadPlan());
    const infer = packPlan(inferenceRecords(graph, layout, this.customOps), this.threadPlan());
    this.trainPlan = { ptr: this.heap.alloc(train.byteLength), ops: train.length / OP_WORDS };
    this.inferPlan = { ptr: this.heap.alloc(infer.byteLength), ops: infer.length / OP_WORDS };
    this.heap.i32(this.trainPlan.ptr, train.length).set(train);
    this.heap.i32(this.inferPlan.ptr, infer.length).set(infer);

    await this.writeParams(params);
    await this.resetOptimizer();
  }

  async setDataset(slot: DatasetSlot, data: DatasetTensors): Promise<void> {
    this.live();
    const bytes = featureBytes(data, data.count);
    if (data.images.length < bytes || data.labels.length < data.count) {
      throw new Error(`${slot} dataset: ${data.count} examples of ${data.features} features need ${bytes} feature bytes and ${data.count} labels, got ${data.images.length} and ${data.labels.length}`);
    }
    // Reuse the previous allocation of this slot when the new set fits in it.
    const old = this.data[slot];
    const fits = old !== undefined && old.imageCapacity >= bytes && old.labelCapacity >= data.count;
    const images = fits ? old.images : this.heap.alloc(bytes + 16);
    const labels = fits ? old.labels : this.heap.alloc(data.count + 16);
    this.heap.u8(images, bytes).set(data.images.subarray(0, bytes));
    this.heap.u8(labels, data.count).set(data.labels.subarray(0, data.count));
    const targetFloats = data.targets && data.targetWidth ? data.count * data.targetWidth : 0;
    if (data.targets && data.targets.length < targetFloats) throw new Error(`${slot} dataset: ${data.count} examples of ${data.targetWidth} targets need ${targetFloats} floats, got ${data.targets.length}`);
    const targetsFit = old !== undefined && old.targetCapacity >= targetFloats;
    const targets = targetFloats === 0 ? 0 : targetsFit ? old.targets : this.heap.alloc(targetFloats * 4);
    if (targetFloats) this.heap.f32(targets, targetFloats).set(data.targets!.subarray(0, targetFloats));
    this.data[slot] = {
      images, labels, count: data.count, features: data.features,
      imageCapacity: fits ? old.imageCapacity : bytes, labelCapacity: fits ? old.labelCapacity : data.count,
      targets, targetWidth: targetFloats ? data.targetWidth! : 0,
      targetCapacity: targetFloats === 0 ? (old?.targetCapacity ?? 0) : targetsFit ? old.targetCapacity : targetFloats,
    };
  }

  async setOrder(order: Uint32Array): Promise<void> {
    this.live();
    if (order.length > this.order.capacity) this.order = { ptr: this.heap.alloc(order.length * 4), length: 0, capacity: order.length };
    this.heap.u32(this.order.ptr, order.length).set(order);
    this.order.length = order.length;
  }

  async trainSteps(firstBatch: number, steps: number, globalStep: number): Promise<void> {
    const d = this.need('train');
    const g = this.graph;
    if (d.features !== g.inputFeatures) throw new Error(`train dataset has ${d.features} features per example, the model takes ${g.inputFeatures}`);
    if (this.order.length < d.count) throw new Error('trainSteps: setOrder() must be given an order covering the training set first');
    if (steps <= 0) return;
    const last = firstBatch + steps - 1;
    if (last * g.batchSize >= d.count) throw new Error(`trainSteps: batch ${last} is past the end of the training set`);
    checkTargets('train', this.targetsOf(d), g.targetWidth);
    const o = g.optimizer;
    if (steps > this.rates.capacity) this.rates = { ptr: this.heap.alloc(steps * 8), capacity: steps };
    const rates = this.heap.f64(this.rates.ptr, steps);
    for (let s = 0; s < steps; s++) rates[s] = learningRateAt(o, globalStep + s);
    if (this.pool) {
      // Each worker's instance has its own globals: the targets travel with the command.
      await this.pool.run(CMD_TRAIN, [
        this.trainPlan.ptr, this.trainPlan.ops, d.images, d.labels, d.count, this.order.ptr, g.batchSize,
        firstBatch, steps, globalStep, g.seed | 0, this.trainMetrics, d.targets, this.rates.ptr,
      ], [o.beta1, o.beta2, o.epsilon]);
      return;
    }
    this.k.setTargets(d.targets);
    this.k.trainSteps(
      this.trainPlan.ptr, this.trainPlan.ops, d.images, d.labels, d.count, this.order.ptr, g.batchSize,
      firstBatch, steps, globalStep, g.seed | 0, this.trainMetrics,
      this.rates.ptr, o.beta1, o.beta2, o.epsilon,
    );
  }

  async readMetrics(): Promise<TrainMetrics> {
    this.live();
    const m = this.heap.f64(this.trainMetrics, metricWords(this.graph));
    const out = { lossSum: m[0], correct: m[1], samples: m[2], sums: [...m.subarray(3)] };
    m.fill(0);
    return out;
  }

  async evaluate(slot: DatasetSlot): Promise<EvalResult> {
    const d = this.need(slot);
    const words = metricWords(this.graph);
    this.heap.f64(this.evalMetrics, words).fill(0);
    checkTargets(slot, this.targetsOf(d), this.graph.targetWidth);
    await this.infer(d.images, d.labels, d.count, 0, d.targets);
    const m = this.heap.f64(this.evalMetrics, words);
    const [lossSum, correct, samples] = m;
    const sums = { lossSum, correct, samples, sums: [...m.subarray(3)] };
    return { loss: lossSum / samples, accuracy: correct / (samples * this.graph.scoredPositions), correct, samples, metrics: metricValues(this.graph.metrics, sums, this.graph.scoredPositions) };
  }

  async predict(images: Uint8Array, count: number): Promise<Float32Array> {
    this.live();
    const { inputFeatures: F, outputs: C } = this.graph;
    const inBytes = count * F * bytesPerFeature(this.graph.inputDtype);
    if (images.length < inBytes) throw new Error(`predict: ${count} examples of ${F} features need ${inBytes} bytes, got ${images.length}`);
    const imgBytes = Math.ceil((inBytes + 16) / 64) * 64;
    const labBytes = Math.ceil((count + 16) / 64) * 64;
    const need = imgBytes + labBytes + count * C * 4;
    if (need > this.scratch.bytes) this.scratch = { ptr: this.heap.alloc(need), bytes: need };
    const img = this.scratch.ptr, lab = img + imgBytes, probs = lab + labBytes;
    this.heap.u8(img, inBytes).set(images.subarray(0, inBytes));
    this.heap.u8(lab, count).fill(0);
    await this.infer(img, lab, count, probs, 0); // predict reads no targets: gather_targets writes nothing
    return this.heap.f32(probs, count * C).slice();
  }

  /** The inference plan over `count` examples (probs 0: metrics at evalMetrics), on the pool when there is one. */
  private async infer(images: number, labels: number, count: number, probs: number, targets: number): Promise<void> {
    const B = this.graph.batchSize;
    if (this.pool) {
      await this.pool.run(CMD_INFER, [this.inferPlan.ptr, this.inferPlan.ops, images, labels, count, B, this.evalMetrics, probs, targets]);
      return;
    }
    this.k.setTargets(targets);
    this.k.runInference(this.inferPlan.ptr, this.inferPlan.ops, images, labels, count, B, this.evalMetrics, probs);
  }

  async readParams(): Promise<Float32Array[]> {
    this.live();
    return this.graph.params.map((p) => this.heap.f32(this.ptr(p.name), p.size).slice());
  }

  async writeParams(params: Float32Array[]): Promise<void> {
    this.live();
    this.graph.params.forEach((p, i) => {
      if (params[i].length !== p.size) throw new Error(`parameter ${p.name}: expected ${p.size} values, got ${params[i].length}`);
      this.heap.f32(this.ptr(p.name), p.size).set(params[i]);
    });
    for (const [w, t] of this.transposed) this.k.transpose(this.ptr(w), t.ptr, t.k, t.n);
  }

  async resetOptimizer(): Promise<void> {
    this.live();
    for (const p of this.graph.params) for (const s of p.state) this.heap.f32(this.ptr(s), p.size).fill(0);
  }

  async readBuffers(names: readonly string[]): Promise<Float32Array[]> {
    this.live();
    return names.map((n) => this.heap.f32(this.ptr(n), this.wholeSize(n)).slice());
  }

  async writeBuffers(buffers: readonly { name: string; data: Float32Array }[]): Promise<void> {
    this.live();
    for (const { name, data } of buffers) {
      const size = this.wholeSize(name);
      if (data.length !== size) throw new Error(`graph buffer '${name}': expected ${size} values, got ${data.length}`);
      this.heap.f32(this.ptr(name), size).set(data);
      // A kernel's transposed copy (read by dense_backward_input) follows the kernel.
      const t = this.transposed.get(name);
      if (t) this.k.transpose(this.ptr(name), t.ptr, t.k, t.n);
    }
  }

  /** The size of a whole-model (not per-row) buffer. */
  private wholeSize(name: string): number {
    const b = this.graph.buffers.find((x) => x.name === name);
    if (!b) throw new Error(`graph buffer '${name}' was not allocated`);
    if (b.perRow) throw new Error(`graph buffer '${name}' is per-row; only whole-model buffers can be read or written by name`);
    return b.floats;
  }

  dispose(): void {
    this.pool?.dispose();
    this.pool = null;
    this.disposed = true;
    this.data = {};
    this.ptrs.clear();
  }

  private live(): void {
    if (this.disposed) throw new Error('the wasm backend was disposed');
  }

  /**
   * Benchmarks (bench/threads.ts): runs one op of the prepared graph `reps`
   * times on its buffers at the graph's batch size, on the threads there are
   * (barriers included, as in training); seconds in all. Not for gather.
   */
  async timeOp(op: Op, reps: number): Promise<number> {
    this.live();
    const layout = layoutFor(this.graph, { ptr: (name: string) => this.ptr(name), transposed: (name: string) => this.transposed.get(name)!.ptr, labels: this.labelsPtr });
    const rec = packPlan([{ op: op as never, words: encodeRecord(op, layout, this.customOps) }], this.threadPlan());
    const plan = this.heap.alloc(rec.byteLength);
    this.heap.i32(plan, rec.length).set(rec);
    const B = this.graph.batchSize;
    const t0 = performance.now();
    if (this.pool) await this.pool.run(CMD_INFER, [plan, 1, 0, 0, B * reps, B, this.evalMetrics, 0, 0]);
    else this.k.runInference(plan, 1, 0, 0, B * reps, B, this.evalMetrics, 0);
    return (performance.now() - t0) / 1000;
  }

  /** Test hook: a copy of a graph buffer's current contents (per-row buffers hold batchSize rows), as the js and webgpu backends have. */
  async readBuffer(name: string): Promise<Float32Array> {
    return this.kernels.heap.f32(this.ptr(name), this.sizes.get(name)!).slice();
  }

  /** What a resident set holds of targets (its floats are in the heap, checked when uploaded). */
  private targetsOf(d: ResidentData): TargetShape {
    return { count: d.count, width: d.targetWidth, floats: d.count * d.targetWidth };
  }

  private need(slot: DatasetSlot): ResidentData {
    this.live();
    if (!this.graph) throw new Error('the wasm backend was not prepared with a graph');
    const d = this.data[slot];
    if (!d) throw new Error(`no ${slot} dataset was uploaded to the wasm backend`);
    return d;
  }

  private ptr(name: string): number {
    const p = this.ptrs.get(name);
    if (p === undefined) throw new Error(`graph buffer '${name}' was not allocated`);
    return p;
  }
}
