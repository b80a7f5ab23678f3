// The `webgpu` backend: the Graph run by the WGSL kernels of kernels/wgsl.
// Browser-safe (no Node imports): give it navigator.gpu in a page, or the
// GPU object of Dawn's `webgpu` package in Node (src/node/webgpu.ts).
//
// Residency: GraphMemory (src/runtime/webgpu/memory.ts) allocates every
// buffer once per prepare(); pipelines (specialised by override constants
// to each op's shape) and bind groups are made once too, by each op's
// registered `webgpu.dispatches` (src/ops). Datasets are uploaded once as
// bytes and gathered on the device through the order buffer.
//
// Steps: per-step values (batch offset, rows, dropout keys, Adam step size)
// live in a uniform "context" buffer of 256-byte records, one
// queue.writeBuffer per chunk of up to CTX_RECORDS steps; each step's
// dispatches select their record with a dynamic offset. `stepsPerSubmit`
// steps share a command encoder and a submit. Nothing is read back per
// step: loss sums (fixed point) and correct counts accumulate in a metrics
// buffer that readMetrics maps once.
//
// Errors: work is encoded inside error scopes, and every wait races the
// device-lost promise and a watchdog (GpuSession), so nothing hangs.

import type { Backend, DatasetSlot, DatasetTensors, EvalResult, TrainMetrics } from '../backend.js';
import { bytesPerFeature } from '../../data/types.js';
import type { Graph, Op } from '../graph.js';
import { defOf } from '../../ops/index.js';
import { adamStepSize } from '../../ops/adam.js';
import { learningRateAt } from '../optimizers/index.js';
import type { GpuDispatch, GpuEnv } from '../../ops/types.js';
import { metricValues, type PredictionKind } from '../losses/index.js';
import { checkTargets, type TargetShape } from '../targets.js';
import { ResidentSets, type Resident } from '../webgpu/datasets.js';
import { GpuSession } from '../webgpu/device.js';
import { WebGpuError, withErrorScopes } from '../webgpu/errors.js';
import { KernelSet } from '../webgpu/kernels.js';
import { GraphMemory } from '../webgpu/memory.js';
import { opEnv, type CustomKernel } from '../webgpu/op-env.js';
import type { WebGpuBackendOptions } from '../webgpu/options.js';
import { KeySlots, StepEncoder } from '../webgpu/steps.js';

export { describeAdapter } from '../webgpu/adapter.js';
import { describeAdapter } from '../webgpu/adapter.js';

export type { WebGpuBackendOptions, CustomKernelOp } from '../webgpu/options.js';
export type { CustomKernel } from '../webgpu/op-env.js';

type Dispatch = GpuDispatch;

/** softmax.wgsl's OUTPUT override for each kind of prediction. */
const PREDICT_OUTPUT: Record<PredictionKind, number> = { softmax: 0, sigmoid: 1, identity: 2 };

/** Ops split into runs of consecutive records of the same kind (candidates for fusing). */
function runsOfKind(ops: Op[]): Op[][] {
  const runs: Op[][] = [];
  for (const op of ops) {
    const last = runs[runs.length - 1];
    if (last && last[0]!.kind === op.kind) last.push(op);
    else runs.push([op]);
  }
  return runs;
}

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  readonly description: string;
  readonly kernels: KernelSet;
  readonly session: GpuSession;
  private readonly stepsPerSubmit: number;
  private readonly denseForward: 'register' | 'tiled';
  private readonly convKernels: 'blocked' | 'direct';
  private readonly custom: Partial<Record<string, CustomKernel>>;
  private disposed = false;

  private graph!: Graph;
  private mem: GraphMemory | null = null;
  private keySlots = new KeySlots();
  private trainBody: Dispatch[] = [];
  /** Inference up to the logits, and the loss op's dispatches after it (evaluate runs both, predict a softmax instead). */
  private inferBody: Dispatch[] = [];
  private lossBody: Dispatch[] = [];
  private predictOutput: GPUComputePipeline | null = null;
  private sets: ResidentSets;
  private samples = 0;

  private constructor(readonly device: GPUDevice, readonly adapterInfo: GPUAdapterInfo | undefined, options: WebGpuBackendOptions, featureLevel: string) {
    this.kernels = new KernelSet(device);
    this.sets = new ResidentSets(device, options.shardBytes);
    this.session = new GpuSession(device, options.watchdogMs ?? 600_000);
    this.stepsPerSubmit = Math.max(1, options.stepsPerSubmit ?? 32);
    this.denseForward = options.denseForward ?? 'register';
    this.convKernels = options.convKernels ?? 'blocked';
    this.custom = options.customKernels ?? {};
    const customText = Object.entries(this.custom).map(([op, k]) => `; custom ${op}: ${k!.label}`).join('');
    this.description = `webgpu (${describeAdapter(adapterInfo, options.backendLabel, featureLevel)})${customText}`;
  }

  /** Request an adapter (unless given) and a device from `gpu` (navigator.gpu in a browser, Dawn's GPU in Node). */
  static async create(gpu: GPU, options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
    const featureLevel = options.featureLevel ?? 'compatibility';
    const adapter = options.adapter ?? (await gpu.requestAdapter({ featureLevel, powerPreference: options.powerPreference }));
    if (!adapter) throw new WebGpuError(`WebGPU: no adapter (requestAdapter with featureLevel '${featureLevel}' returned null)`);
    const lim = adapter.limits;
    // Larger storage bindings when the adapter has them (the packed MNIST set is 47 MB; the default is 128 MiB).
    const requiredLimits: Record<string, number> = { maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize, maxBufferSize: lim.maxBufferSize };
    const device = await adapter.requestDevice({ label: 'tessera', requiredLimits });
    return new WebGpuBackend(device, adapter.info, options, featureLevel);
  }

  // ---------------------------------------------------------------- prepare

  async prepare(graph: Graph, params: Float32Array[]): Promise<void> {
    this.live();
    this.releaseModel();
    this.graph = graph;
    this.mem = new GraphMemory(this.device, graph);
    await withErrorScopes(this.device, 'prepare', async () => {
      this.trainBody = [];
      for (const group of runsOfKind([...graph.forward, ...graph.backward, ...graph.update])) this.trainBody.push(...(await this.dispatchesOf(group, 'train')));
      // The graph's inference ends with its loss and metric ops (graph.lossOps).
      const inference = graph.inference;
      const logitsEnd = inference.length - graph.lossOps;
      this.inferBody = [];
      for (const op of inference.slice(0, logitsEnd)) this.inferBody.push(...(await this.dispatchesFor(op, 'eval')));
      this.lossBody = [];
      for (const op of inference.slice(logitsEnd)) this.lossBody.push(...(await this.dispatchesFor(op, 'eval')));
      this.predictOutput = await this.kernels.pipeline('softmax', { C: graph.outputs, OUTPUT: PREDICT_OUTPUT[graph.prediction] });
    });
    await this.writeParams(params);
    await this.resetOptimizer();
    await this.session.wait('prepare');
  }

  /** The dispatches of consecutive ops of one kind: fused when the op's spec can, else one op at a time. */
  private async dispatchesOf(ops: Op[], mode: 'train' | 'eval'): Promise<Dispatch[]> {
    const def = defOf(ops[0]!);
    const fused = ops.length > 1 && def.webgpu.fuse ? await def.webgpu.fuse(ops, this.env(ops[0]!, mode)) : null;
    if (fused) return fused;
    const out: Dispatch[] = [];
    for (const op of ops) out.push(...(await this.dispatchesFor(op, mode)));
    return out;
  }

  /** The dispatches of one graph op, built by its registered webgpu spec (gather's are none here: it is bound per dataset, see gatherDispatches). */
  private async dispatchesFor(op: Op, mode: 'train' | 'eval'): Promise<Dispatch[]> {
    return defOf(op).webgpu.dispatches(op, this.env(op, mode));
  }

  private env(op: Op, mode: 'train' | 'eval', dataset: ReturnType<NonNullable<GpuEnv['dataset']>> = null) {
    const def = defOf(op);
    const mem = this.mem!;
    return opEnv(this.kernels, def, {
      B: this.graph.batchSize,
      mode,
      ctx: mem.ctx,
      range: (name) => mem.range(name),
      scratch: () => mem.scratch(),
      labels: () => ({ buffer: mem.labels }),
      metrics: (k) => mem.metricRange(mode === 'train' ? mem.trainMetrics : mem.evalMetrics, k),
      keySlot: (stream) => this.keySlots.slot(stream),
      optimizer: this.graph.optimizer,
      prefer: { denseForward: this.denseForward, conv: this.convKernels },
      span: (names) => mem.span(names),
      dataset: () => dataset,
      custom: this.custom[op.kind],
    });
  }

  /**
   * The gather dispatches of a dataset slot into the graph's input (and, for
   * a loss that reads them, its targets), through the order (train) or in
   * sequence (evaluation, predict): the registered dispatches of the
   * graph's dataset ops in an env that offers the slot's buffers. Predict's
   * set has no targets and needs none: its gather_targets is left out.
   */
  private gatherDispatches(slot: string, ordered: boolean): Promise<Dispatch[]> {
    const datasetOps = this.graph.forward.filter((op) => op.kind === 'gather' || op.kind === 'gather_f32' || op.kind === 'gather_targets');
    if (datasetOps[0]?.kind !== 'gather' && datasetOps[0]?.kind !== 'gather_f32') throw new Error('webgpu: the graph does not start with gather');
    return this.sets.gather(slot, ordered, (data, order) => withErrorScopes(this.device, 'gather', async () => {
      const out: Dispatch[] = [];
      const of = data.shards.length;
      // One dispatch per shard and op: each writes the rows whose example is in its shard.
      for (const [index, s] of data.shards.entries()) {
        const dataset = {
          images: { buffer: s.images }, labels: { buffer: s.labels }, targets: s.targets ? { buffer: s.targets } : null,
          order: order ? { buffer: order } : null, label: `${slot}${ordered ? ' ordered' : ''}${of > 1 ? ` shard ${index + 1}/${of}` : ''}`,
          shard: of > 1 ? { first: s.first, count: s.count, index, of } : null,
        };
        for (const op of datasetOps) {
          if (op.kind === 'gather_targets' && slot === 'predict') continue;
          const made = await defOf(op).webgpu.dispatches(op, this.env(op, ordered ? 'train' : 'eval', dataset));
          if (!made.length) throw new Error(`webgpu: ${op.kind} made no dispatch for a dataset`);
          out.push(...made);
        }
      }
      return out;
    }, 'gather'));
  }

  // ---------------------------------------------------------------- data

  /** How many shards a resident set is split into (0: none uploaded). */
  shardsOf(slot: DatasetSlot): number {
    return this.sets.get(slot)?.shards.length ?? 0;
  }

  async setDataset(slot: DatasetSlot, data: DatasetTensors): Promise<void> {
    this.live();
    this.sets.set(slot, data);
  }

  async setOrder(order: Uint32Array): Promise<void> {
    this.live();
    this.sets.setOrder(order);
  }

  // ---------------------------------------------------------------- training

  async trainSteps(firstBatch: number, steps: number, globalStep: number): Promise<void> {
    const d = this.need('train');
    const g = this.graph;
    const B = g.batchSize;
    if (d.features !== g.inputFeatures) throw new Error(`train dataset has ${d.features} features per example, the model takes ${g.inputFeatures}`);
    if (!this.sets.order.buffer || this.sets.order.length < d.count) throw new Error('trainSteps: setOrder() must be given an order covering the training set first');
    if (steps <= 0) return;
    const last = firstBatch + steps - 1;
    if (last * B >= d.count) throw new Error(`trainSteps: batch ${last} is past the end of the training set`);
    checkTargets('train', this.targetsOf(d), g.targetWidth);
    const body = [...(await this.gatherDispatches('train', true)), ...this.trainBody];
    await this.steps().run(body, steps, (s) => {
      const step = globalStep + s;
      const offset = (firstBatch + s) * B;
      const rows = Math.min(B, d.count - offset);
      this.samples += rows;
      const lr = learningRateAt(g.optimizer, step);
      return { offset, rows, step, alpha: adamStepSize({ ...g.optimizer, learningRate: lr }, step + 1), lr, invRows: 1 / rows, keys: this.keySlots.at(g.seed, step) };
    }, 'trainSteps');
    await this.session.wait('trainSteps');
  }

  private stepEncoder: StepEncoder | null = null;
  private steps(): StepEncoder {
    return (this.stepEncoder ??= new StepEncoder(this.device, this.mem!.ctx, this.stepsPerSubmit));
  }

  async readMetrics(): Promise<TrainMetrics> {
    this.live();
    const mem = this.mem!;
    const out = { ...(await mem.takeMetrics(this.session, mem.trainMetrics, 'readMetrics')), samples: this.samples };
    this.samples = 0;
    return out;
  }

  // ---------------------------------------------------------------- inference

  async evaluate(slot: DatasetSlot): Promise<EvalResult> {
    const d = this.need(slot);
    const mem = this.mem!;
    if (d.features !== this.graph.inputFeatures) throw new Error(`${slot} dataset has ${d.features} features per example, the model takes ${this.graph.inputFeatures}`);
    checkTargets(slot, this.targetsOf(d), this.graph.targetWidth);
    this.device.queue.writeBuffer(mem.evalMetrics, 0, new Uint32Array(mem.evalMetrics.size / 4));
    await this.runBatches(d.count, [...(await this.gatherDispatches(slot, false)), ...this.inferBody, ...this.lossBody], 'evaluate');
    const m = { ...(await mem.takeMetrics(this.session, mem.evalMetrics, 'evaluate')), samples: d.count };
    return { loss: m.lossSum / d.count, accuracy: m.correct / (d.count * this.graph.scoredPositions), correct: m.correct, samples: d.count, metrics: metricValues(this.graph.metrics, m, this.graph.scoredPositions) };
  }

  /** Run `body` once per batch of `count` rows in sequence (record: offset = first row, rows). */
  private async runBatches(count: number, body: Dispatch[], what: string): Promise<void> {
    const B = this.graph.batchSize;
    await this.steps().run(body, Math.ceil(count / B), (i) => ({ offset: i * B, rows: Math.min(B, count - i * B), step: 0, alpha: 0, invRows: 0 }), what);
    await this.session.wait(what);
  }

  async predict(images: Uint8Array, count: number): Promise<Float32Array> {
    this.live();
    const { inputFeatures: F, outputs: C } = this.graph;
    const mem = this.mem!;
    const inBytes = count * F * bytesPerFeature(this.graph.inputDtype);
    if (images.length < inBytes) throw new Error(`predict: ${count} examples of ${F} features need ${inBytes} bytes, got ${images.length}`);
    if (count === 0) return new Float32Array(0);
    const outBytes = count * C * 4;
    if (outBytes > this.device.limits.maxStorageBufferBindingSize) throw new WebGpuError(`predict: ${count} rows of ${C} probabilities do not fit one storage binding; predict fewer images per call`);
    const probs = this.device.createBuffer({ label: 'tessera predict probs', size: Math.ceil(outBytes / 4) * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    try {
      this.sets.set('predict', { images, labels: new Uint8Array(count), count, features: F, dtype: this.graph.inputDtype });
      const output: Dispatch = {
        pipeline: this.predictOutput!, kernel: 'softmax', x: Math.ceil(this.graph.batchSize / 64), y: 1,
        group: this.kernels.bindGroup('softmax', 'predict', mem.ctx, [mem.range(this.graph.logits), { buffer: probs }]),
      };
      const body = [...(await this.gatherDispatches('predict', false)), ...this.inferBody, output];
      await this.runBatches(count, body, 'predict');
      return await this.session.readF32(probs, 0, count * C, 'predict');
    } finally {
      this.sets.delete('predict');
      probs.destroy();
    }
  }

  // ---------------------------------------------------------------- parameters

  async readParams(): Promise<Float32Array[]> {
    this.live();
    return this.mem!.readParams(this.session);
  }

  async writeParams(params: Float32Array[]): Promise<void> {
    this.live();
    this.mem!.writeParams(params);
  }

  async resetOptimizer(): Promise<void> {
    this.live();
    this.mem!.clearOptimizerState();
  }

  async readBuffers(names: readonly string[]): Promise<Float32Array[]> {
    this.live();
    return this.mem!.readWholeBuffers(this.session, names);
  }

  async writeBuffers(buffers: readonly { name: string; data: Float32Array }[]): Promise<void> {
    this.live();
    this.mem!.writeWholeBuffers(buffers);
  }

  /** Test hook: a copy of a graph buffer's current contents (per-row buffers hold batchSize rows). */
  async readBuffer(name: string): Promise<Float32Array> {
    if (!this.mem) throw new Error('the webgpu backend was not prepared with a graph');
    return this.mem.readBuffer(this.session, name);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.releaseModel();
    this.sets.destroy();
    this.device.destroy();
  }

  private releaseModel(): void {
    this.mem?.destroy();
    this.mem = null;
    this.stepEncoder = null;
    this.sets.forgetDispatches();
    this.keySlots.clear();
    this.trainBody = [];
    this.inferBody = [];
    this.lossBody = [];
    this.samples = 0;
  }

  private live(): void {
    if (this.disposed) throw new Error('the webgpu backend was disposed');
    this.session.live();
  }

  /** What a resident set holds of targets (checked when uploaded). */
  private targetsOf(d: Resident): TargetShape {
    return { count: d.count, width: d.targetWidth, floats: d.count * d.targetWidth };
  }

  private need(slot: DatasetSlot): Resident {
    this.live();
    if (!this.graph) throw new Error('the webgpu backend was not prepared with a graph');
    const d = this.sets.get(slot);
    if (!d) throw new Error(`no ${slot} dataset was uploaded to the webgpu backend`);
    return d;
  }
}
