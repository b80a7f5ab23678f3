// The `webgpu` backend: the Graph run by the WGSL kernels of kernels/wgsl.
// Browser-safe (no Node imports): give it navigator.gpu in a page, or the
// GPU object of Dawn's `webgpu` package in Node (src/node/webgpu.ts).
//
// Residency. prepare() allocates every buffer once: one storage buffer per
// per-row slot of the graph (sized for graph.batchSize), and four "arenas"
// with identical layouts for the parameters, their gradients and the two
// Adam moments (each parameter 256-byte aligned, padding zero, so one Adam
// dispatch updates the whole model). Pipelines (specialised by override
// constants to each op's shape) and bind groups are made once too. The
// datasets are uploaded once as bytes (4 pixels per u32) and gathered on the
// device through the order buffer.
//
// Steps. Per-step values (batch offset, rows, dropout keys, Adam step size)
// live in a uniform "context" buffer of 256-byte records: one
// queue.writeBuffer per chunk of up to CTX_RECORDS steps, and each step's
// dispatches select their record with a dynamic offset. A step is ~12
// dispatches in one compute pass; `stepsPerSubmit` steps share a command
// encoder and a submit. Nothing is read back per step: loss sums (fixed
// point) and correct counts accumulate in a metrics buffer that readMetrics
// maps once.
//
// Errors. Work is encoded inside validation/out-of-memory/internal error
// scopes; errors, uncaptured errors and a lost device become Errors naming
// the kernel (labels `kernel:<name>`), and every wait on the GPU races the
// device-lost promise and a watchdog, so nothing hangs.

import type { Backend, DatasetSlot, DatasetTensors, EvalResult, TrainMetrics } from '../backend.js';
import type { Graph, Op } from '../graph.js';
import { adamStepSize } from '../reference/kernels.js';
import { dropoutScale, dropoutThreshold, rngKey } from '../rng.js';
import { describeGpuError, WebGpuError, withErrorScopes } from '../webgpu/errors.js';
import {
  CTX_STRIDE, grid1d, KernelSet, matmulDispatch, MAX_DROPOUT_KEYS, writeCtx, type Constants, type KernelName,
} from '../webgpu/kernels.js';

export interface WebGpuBackendOptions {
  /** Use this adapter instead of requesting one from `gpu`. */
  adapter?: GPUAdapter;
  /** Feature level to request the adapter with, or that `adapter` was requested with (default 'compatibility'; every kernel stays within its limits). */
  featureLevel?: 'core' | 'compatibility';
  powerPreference?: GPUPowerPreference;
  /** Words for the description, e.g. "Dawn, OpenGL ES backend" (the Node acquirer passes it). */
  backendLabel?: string;
  /** Training steps encoded per command buffer / submit (default 32). */
  stepsPerSubmit?: number;
  /**
   * Which dense_forward kernel: 'register' (default: 4×4 outputs per invocation, barrier-free;
   * dense_forward_vec4 when K and N are multiples of 4, else dense_forward) or 'tiled'
   * (dense_forward_tiled, workgroup-memory tiles; slower on llvmpipe).
   */
  denseForward?: 'register' | 'tiled';
  /** Longest wait for the GPU before giving up with an error (default 600 000 ms). */
  watchdogMs?: number;
  /** Users' kernels replacing the built-in kernel of an op (issue 7; made from .wgsl files by src/bench/custom-wgsl.ts). */
  customKernels?: Partial<Record<CustomKernelOp, CustomKernel>>;
}

/** Ops whose kernel a user's WGSL may replace (contracts: docs/kernels.md). */
export type CustomKernelOp = 'dense_forward' | 'dense_backward_weights' | 'dense_backward_input';

/** A user's kernel for one op: builds its pipeline for one op instance on the op's contract layout. */
export interface CustomKernel {
  /** For messages and the backend's description, e.g. "./my_dense.wgsl". */
  label: string;
  /** `values`: the contract's override constants; M the batch capacity; returns the pipeline and its workgroup grid. */
  build(device: GPUDevice, layout: GPUBindGroupLayout, values: Constants, M: number, K: number, N: number): Promise<{ pipeline: GPUComputePipeline; grid: [number, number] }>;
}

/** Context records per upload (a chunk of steps or evaluation batches). */
const CTX_RECORDS = 512;
const PARAM_ALIGN_FLOATS = 64; // 256 bytes: the default minStorageBufferOffsetAlignment
const METRIC_BYTES = 16;

interface Range { buffer: GPUBuffer; offset: number; size: number }
interface Dispatch { pipeline: GPUComputePipeline; group: GPUBindGroup; x: number; y: number; kernel: KernelName }
interface Resident { images: GPUBuffer; labels: GPUBuffer; count: number; features: number }

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** One line for people about an adapter: device, vendor, architecture, driver description. */
export function describeAdapter(info: GPUAdapterInfo | undefined, backendLabel?: string, featureLevel?: string): string {
  const parts: string[] = [];
  if (info) {
    const who = [info.vendor, info.architecture, info.device].filter((s) => s && s.length).join(' ');
    if (who) parts.push(who);
    if (info.description) parts.push(info.description);
  }
  if (backendLabel) parts.push(backendLabel);
  if (featureLevel) parts.push(`${featureLevel} feature level`);
  return parts.length ? parts.join('; ') : 'unknown adapter';
}

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  readonly description: string;
  readonly kernels: KernelSet;
  private readonly stepsPerSubmit: number;
  private readonly watchdogMs: number;
  private lostInfo: GPUDeviceLostInfo | null = null;
  private readonly lostPromise: Promise<never>;
  private uncaptured: WebGpuError | null = null;
  private disposed = false;

  private graph!: Graph;
  private owned: GPUBuffer[] = [];
  private ranges = new Map<string, Range>();
  private arenas!: { params: GPUBuffer; grads: GPUBuffer; m: GPUBuffer; v: GPUBuffer; floats: number; offsets: number[] };
  private labels!: GPUBuffer;
  private ctx!: GPUBuffer;
  private ctxStaging = new ArrayBuffer(CTX_RECORDS * CTX_STRIDE);
  private trainMetrics!: GPUBuffer;
  private evalMetrics!: GPUBuffer;
  private dropoutSlots = new Map<number, number>();
  private trainBody: Dispatch[] = [];
  private inferBody: Dispatch[] = [];
  private predictSoftmax: GPUComputePipeline | null = null;
  private gatherCache = new Map<string, Dispatch>();
  private data: Partial<Record<DatasetSlot, Resident>> = {};
  private order: { buffer: GPUBuffer | null; length: number } = { buffer: null, length: 0 };
  private samples = 0;

  private constructor(readonly device: GPUDevice, readonly adapterInfo: GPUAdapterInfo | undefined, options: WebGpuBackendOptions, featureLevel: string) {
    this.kernels = new KernelSet(device);
    this.stepsPerSubmit = Math.max(1, options.stepsPerSubmit ?? 32);
    this.watchdogMs = options.watchdogMs ?? 600_000;
    this.denseForward = options.denseForward ?? 'register';
    this.custom = options.customKernels ?? {};
    const customText = Object.entries(this.custom).map(([op, k]) => `; custom ${op}: ${k!.label}`).join('');
    this.description = `webgpu (${describeAdapter(adapterInfo, options.backendLabel, featureLevel)})${customText}`;
    this.lostPromise = device.lost.then((info) => {
      this.lostInfo = info;
      throw new WebGpuError(`WebGPU device lost (${info.reason}): ${info.message || 'no message'}`);
    });
    this.lostPromise.catch(() => {}); // observed by guard(); never an unhandled rejection
    device.addEventListener('uncapturederror', (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      const kind = e instanceof GPUOutOfMemoryError ? 'out-of-memory' : e instanceof GPUValidationError ? 'validation' : 'internal';
      this.uncaptured ??= describeGpuError(kind, e.message, 'an uncaptured error');
    });
  }

  private readonly denseForward: 'register' | 'tiled';
  private readonly custom: Partial<Record<CustomKernelOp, CustomKernel>>;

  /** A dispatch of a user's kernel on the contract layout of the built-in `layoutOf`. */
  private async customDispatch(k: CustomKernel, layoutOf: KernelName, detail: string, values: Constants, buffers: GPUBufferBinding[], K: number, N: number): Promise<Dispatch> {
    const { pipeline, grid } = await k.build(this.device, this.kernels.layout(layoutOf), values, this.graph.batchSize, K, N);
    return { pipeline, group: this.kernels.bindGroup(layoutOf, `${detail} custom ${k.label}`, this.ctx, buffers), x: grid[0], y: grid[1], kernel: layoutOf };
  }

  /** Request an adapter (unless given) and a device from `gpu` (navigator.gpu in a browser, Dawn's GPU in Node). */
  static async create(gpu: GPU, options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
    const featureLevel = options.featureLevel ?? 'compatibility';
    const adapter = options.adapter ?? (await gpu.requestAdapter({ featureLevel, powerPreference: options.powerPreference }));
    if (!adapter) throw new WebGpuError(`WebGPU: no adapter (requestAdapter with featureLevel '${featureLevel}' returned null)`);
    const lim = adapter.limits;
    // Larger storage bindings when the adapter has them (the packed MNIST set is 47 MB; the default is 128 MiB).
    const requiredLimits: Record<string, number> = {
      maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
      maxBufferSize: lim.maxBufferSize,
    };
    const device = await adapter.requestDevice({ label: 'tessera', requiredLimits });
    return new WebGpuBackend(device, adapter.info, options, featureLevel);
  }

  // ---------------------------------------------------------------- prepare

  async prepare(graph: Graph, params: Float32Array[]): Promise<void> {
    this.live();
    this.releaseModel();
    this.graph = graph;
    const B = graph.batchSize;
    const d = this.device;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

    // Per-row slots.
    const slotBuffers = graph.slots.map((s, i) => (s.perRow ? this.buffer(`slot ${i}`, Math.max(16, s.floats * B * 4), usage) : null));
    // Parameter arenas.
    const offsets: number[] = [];
    let floats = 0;
    for (const p of graph.params) {
      offsets.push(floats);
      floats += align(p.size, PARAM_ALIGN_FLOATS);
    }
    floats = Math.max(floats, PARAM_ALIGN_FLOATS);
    this.arenas = {
      params: this.buffer('params', floats * 4, usage),
      grads: this.buffer('grads', floats * 4, usage),
      m: this.buffer('adam m', floats * 4, usage),
      v: this.buffer('adam v', floats * 4, usage),
      floats, offsets,
    };
    const paramIndex = new Map(graph.params.map((p, i) => [p.name, i]));
    for (const b of graph.buffers) {
      if (b.perRow) {
        this.ranges.set(b.name, { buffer: slotBuffers[b.slot]!, offset: 0, size: Math.max(16, b.floats * B * 4) });
        continue;
      }
      const base = b.kind === 'param' ? b.name : b.name.replace(/:(grad|m|v)$/, '');
      const i = paramIndex.get(base);
      if (i === undefined) throw new Error(`webgpu: graph buffer '${b.name}' belongs to no parameter`);
      const arena = b.kind === 'param' ? this.arenas.params : b.kind === 'grad' ? this.arenas.grads : b.kind === 'adam_m' ? this.arenas.m : this.arenas.v;
      this.ranges.set(b.name, { buffer: arena, offset: offsets[i] * 4, size: b.floats * 4 });
    }
    this.labels = this.buffer('labels', Math.max(16, B * 4), usage);
    this.ctx = this.buffer('step context', CTX_RECORDS * CTX_STRIDE, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.trainMetrics = this.buffer('train metrics', METRIC_BYTES, usage);
    this.evalMetrics = this.buffer('eval metrics', METRIC_BYTES, usage);

    // Dropout layers -> key slots in the context record.
    for (const op of [...graph.forward, ...graph.backward]) {
      if ((op.kind === 'dropout' || op.kind === 'dropout_backward') && !this.dropoutSlots.has(op.stream)) {
        if (this.dropoutSlots.size >= MAX_DROPOUT_KEYS) throw new Error(`webgpu: at most ${MAX_DROPOUT_KEYS} dropout layers are supported`);
        this.dropoutSlots.set(op.stream, this.dropoutSlots.size);
      }
    }

    await withErrorScopes(d, 'prepare', async () => {
      const trainOps = [...graph.forward, ...graph.backward];
      this.trainBody = [];
      for (const op of trainOps) if (op.kind !== 'gather') this.trainBody.push(...(await this.dispatchesFor(op)));
      this.trainBody.push(await this.adamDispatch());
      this.inferBody = [];
      for (const op of graph.inference) if (op.kind !== 'gather') this.inferBody.push(...(await this.dispatchesFor(op, 'eval')));
      this.predictSoftmax = await this.kernels.pipeline('softmax', { C: graph.classes });
    });
    await this.writeParams(params);
    await this.resetOptimizer();
    await this.wait('prepare');
  }

  private buffer(label: string, size: number, usage: number): GPUBuffer {
    const b = this.device.createBuffer({ label: `tessera ${label}`, size: align(size, 4), usage });
    this.owned.push(b);
    return b;
  }

  private range(name: string): GPUBufferBinding {
    const r = this.ranges.get(name);
    if (!r) throw new Error(`webgpu: graph buffer '${name}' was not allocated`);
    return { buffer: r.buffer, offset: r.offset, size: r.size };
  }

  private async dispatch(kernel: KernelName, detail: string, constants: Constants, buffers: GPUBufferBinding[], x: number, y: number): Promise<Dispatch> {
    const pipeline = await this.kernels.pipeline(kernel, constants);
    return { pipeline, group: this.kernels.bindGroup(kernel, detail, this.ctx, buffers), x, y, kernel };
  }

  /** The dispatches of one graph op (gather is bound per dataset, see gatherDispatch). */
  private async dispatchesFor(op: Op, mode: 'train' | 'eval' = 'train'): Promise<Dispatch[]> {
    const B = this.graph.batchSize;
    const dummy = { buffer: this.unused() };
    switch (op.kind) {
      case 'gather':
        return [];
      case 'dense_forward': {
        const bias = op.b ? this.range(op.b) : dummy;
        const io = [this.range(op.x), this.range(op.w), bias, this.range(op.y)];
        const base = { K: op.k, N: op.n, HAS_BIAS: !!op.b, RELU: op.relu };
        if (this.custom.dense_forward) return [await this.customDispatch(this.custom.dense_forward, 'dense_forward', `${op.layer} ${mode}`, base, io, op.k, op.n)];
        if (this.denseForward === 'tiled') {
          return [await this.dispatch('dense_forward_tiled', `${op.layer} ${mode}`, base, io, ...matmulDispatch('dense_forward_tiled', B, op.k, op.n).grid)];
        }
        const kernel = op.k % 4 === 0 && op.n % 4 === 0 ? 'dense_forward_vec4' : 'dense_forward';
        const { constants, grid } = matmulDispatch(kernel, B, op.k, op.n);
        return [await this.dispatch(kernel, `${op.layer} ${mode}`, { ...base, ...constants }, io, ...grid)];
      }
      case 'dropout':
      case 'dropout_backward': {
        const [src, dst] = op.kind === 'dropout' ? [op.x, op.y] : [op.dy, op.dx];
        const [x, y] = grid1d(B * op.features);
        return [await this.dispatch('dropout', `${op.layer} ${op.kind === 'dropout' ? 'forward' : 'backward'}`, {
          FEATURES: op.features, THRESHOLD: dropoutThreshold(op.rate), SCALE: dropoutScale(op.rate), KEY_SLOT: this.dropoutSlots.get(op.stream)!,
        }, [this.range(src), this.range(dst)], x, y)];
      }
      case 'softmax_xent': {
        const grad = op.dlogits !== null && mode === 'train';
        return [await this.dispatch('softmax_xent', mode, { C: op.classes, HAS_GRAD: grad }, [
          this.range(op.logits), { buffer: this.labels }, grad ? this.range(op.dlogits!) : { buffer: this.evalScratch() },
          { buffer: mode === 'train' ? this.trainMetrics : this.evalMetrics },
        ], 1, 1)];
      }
      case 'dense_backward_weights': {
        if (this.custom.dense_backward_weights) {
          const out = [await this.customDispatch(this.custom.dense_backward_weights, 'dense_backward_weights', op.layer, { K: op.k, N: op.n }, [this.range(op.x), this.range(op.dy), this.range(op.dw)], op.k, op.n)];
          if (op.db) out.push(await this.dispatch('bias_grad', op.layer, { N: op.n }, [this.range(op.dy), this.range(op.db)], Math.ceil(op.n / 64), 1));
          return out;
        }
        const kernel = op.k % 4 === 0 && op.n % 4 === 0 ? 'dense_backward_weights_vec4' : 'dense_backward_weights';
        const { constants, grid } = matmulDispatch(kernel, B, op.k, op.n);
        const out = [await this.dispatch(kernel, op.layer, { K: op.k, N: op.n, ...constants }, [this.range(op.x), this.range(op.dy), this.range(op.dw)], ...grid)];
        if (op.db) out.push(await this.dispatch('bias_grad', op.layer, { N: op.n }, [this.range(op.dy), this.range(op.db)], Math.ceil(op.n / 64), 1));
        return out;
      }
      case 'dense_backward_input': {
        if (this.custom.dense_backward_input) {
          return [await this.customDispatch(this.custom.dense_backward_input, 'dense_backward_input', op.layer, { K: op.k, N: op.n, RELU_MASK: !!op.reluOut },
            [this.range(op.dy), this.range(op.w), op.reluOut ? this.range(op.reluOut) : dummy, this.range(op.dx)], op.k, op.n)];
        }
        const kernel = op.k % 4 === 0 && op.n % 4 === 0 ? 'dense_backward_input_vec4' : 'dense_backward_input';
        const { constants, grid } = matmulDispatch(kernel, B, op.k, op.n);
        return [await this.dispatch(kernel, op.layer, { K: op.k, N: op.n, RELU_MASK: !!op.reluOut, ...constants },
          [this.range(op.dy), this.range(op.w), op.reluOut ? this.range(op.reluOut) : dummy, this.range(op.dx)], ...grid)];
      }
      case 'relu_backward': {
        const [x, y] = grid1d(B * op.features);
        return [await this.dispatch('relu_backward', op.layer, { FEATURES: op.features }, [this.range(op.dy), this.range(op.y), this.range(op.dx)], x, y)];
      }
      case 'adam':
        return []; // one fused dispatch over the arenas, see adamDispatch
    }
  }

  private evalScratchBuffer: GPUBuffer | null = null;
  private unusedBuffer: GPUBuffer | null = null;
  /** A small buffer for read-only bindings a kernel variant ignores (no bias, no ReLU mask, no order). */
  private unused(): GPUBuffer {
    return (this.unusedBuffer ??= this.buffer('unused', 16, GPUBufferUsage.STORAGE));
  }
  /** A writable buffer for the unused dlogits binding of evaluation (a storage binding must be given). */
  private evalScratch(): GPUBuffer {
    return (this.evalScratchBuffer ??= this.buffer('eval scratch', 16, GPUBufferUsage.STORAGE));
  }

  private async adamDispatch(): Promise<Dispatch> {
    const o = this.graph.optimizer;
    const count4 = this.arenas.floats / 4;
    const [x, y] = [Math.min(64, Math.ceil(count4 / 64)), 1];
    return this.dispatch('adam', 'all parameters', {
      COUNT4: count4, B1: o.beta1, B2: o.beta2, B1C: Math.fround(1 - o.beta1), B2C: Math.fround(1 - o.beta2), EPS: o.epsilon,
    }, [{ buffer: this.arenas.params }, { buffer: this.arenas.grads }, { buffer: this.arenas.m }, { buffer: this.arenas.v }], x, y);
  }

  /** The gather dispatch for a dataset buffer pair, through the order (train) or in sequence (evaluation, predict). */
  private async gatherDispatch(slot: string, data: Resident, ordered: boolean): Promise<Dispatch> {
    const key = `${slot}:${ordered}`;
    let g = this.gatherCache.get(key);
    if (!g) {
      const F = this.graph.inputFeatures;
      const orderBuf = ordered ? this.order.buffer! : this.unused();
      g = await withErrorScopes(this.device, 'gather', () =>
        this.dispatch('gather', `${slot}${ordered ? ' ordered' : ''}`, { F, ORDERED: ordered },
          [{ buffer: data.images }, { buffer: data.labels }, { buffer: orderBuf }, this.range(this.graph.forward[0].kind === 'gather' ? this.graph.forward[0].x : 'input'), { buffer: this.labels }],
          Math.ceil(Math.ceil(F / 4) / 64), this.graph.batchSize), 'gather');
      this.gatherCache.set(key, g);
    }
    return g;
  }

  // ---------------------------------------------------------------- data

  async setDataset(slot: DatasetSlot, data: DatasetTensors): Promise<void> {
    this.live();
    const resident = this.upload(slot, data);
    const old = this.data[slot];
    this.data[slot] = resident;
    this.dropGather(slot);
    if (old) { old.images.destroy(); old.labels.destroy(); }
  }

  private upload(slot: string, data: DatasetTensors): Resident {
    const bytes = data.count * data.features;
    if (data.images.length < bytes || data.labels.length < data.count) {
      throw new Error(`${slot} dataset: ${data.count} examples of ${data.features} features need ${bytes} image bytes and ${data.count} labels, got ${data.images.length} and ${data.labels.length}`);
    }
    const limit = this.device.limits.maxStorageBufferBindingSize;
    const size = Math.max(16, align(bytes, 4));
    if (size > limit) {
      throw new WebGpuError(`the ${slot} set is ${size} bytes as packed pixels, more than this WebGPU device can bind in one buffer (maxStorageBufferBindingSize ${limit})`);
    }
    const make = (label: string, src: Uint8Array, n: number) => {
      const buf = this.device.createBuffer({ label: `tessera ${label}`, size: Math.max(16, align(n, 4)), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, mappedAtCreation: true });
      new Uint8Array(buf.getMappedRange()).set(src.subarray(0, n));
      buf.unmap();
      return buf;
    };
    return { images: make(`${slot} images`, data.images, bytes), labels: make(`${slot} labels`, data.labels, data.count), count: data.count, features: data.features };
  }

  private dropGather(slot: string): void {
    for (const k of [...this.gatherCache.keys()]) if (k.startsWith(`${slot}:`)) this.gatherCache.delete(k);
  }

  async setOrder(order: Uint32Array): Promise<void> {
    this.live();
    const bytes = Math.max(16, order.length * 4);
    if (!this.order.buffer || this.order.buffer.size < bytes) {
      this.order.buffer?.destroy();
      this.order.buffer = this.device.createBuffer({ label: 'tessera order', size: align(bytes, 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
      this.gatherCache.clear();
    }
    this.device.queue.writeBuffer(this.order.buffer, 0, order.buffer, order.byteOffset, order.byteLength);
    this.order.length = order.length;
  }

  // ---------------------------------------------------------------- training

  async trainSteps(firstBatch: number, steps: number, globalStep: number): Promise<void> {
    const d = this.need('train');
    const g = this.graph;
    const B = g.batchSize;
    if (d.features !== g.inputFeatures) throw new Error(`train dataset has ${d.features} features per example, the model takes ${g.inputFeatures}`);
    if (!this.order.buffer || this.order.length < d.count) throw new Error('trainSteps: setOrder() must be given an order covering the training set first');
    if (steps <= 0) return;
    const last = firstBatch + steps - 1;
    if (last * B >= d.count) throw new Error(`trainSteps: batch ${last} is past the end of the training set`);
    const gather = await this.gatherDispatch('train', d, true);
    const body = [gather, ...this.trainBody];
    const o = g.optimizer;
    const streams = [...this.dropoutSlots.keys()];
    const keys = new Uint32Array(MAX_DROPOUT_KEYS);
    await withErrorScopes(this.device, 'trainSteps', () => {
      for (let c0 = 0; c0 < steps; c0 += CTX_RECORDS) {
        const n = Math.min(CTX_RECORDS, steps - c0);
        const view = new DataView(this.ctxStaging);
        for (let s = 0; s < n; s++) {
          const step = globalStep + c0 + s;
          const offset = (firstBatch + c0 + s) * B;
          const rows = Math.min(B, d.count - offset);
          for (const stream of streams) keys[this.dropoutSlots.get(stream)!] = rngKey(g.seed, stream, step);
          writeCtx(view, s, { offset, rows, step, alpha: adamStepSize(o, step + 1), invRows: 1 / rows, keys });
          this.samples += rows;
        }
        this.device.queue.writeBuffer(this.ctx, 0, this.ctxStaging, 0, n * CTX_STRIDE);
        this.encode(body, n);
      }
    });
    await this.wait('trainSteps');
  }

  /** Encode `records` repetitions of `body` (record i at dynamic offset i·256), stepsPerSubmit per command buffer. */
  private encode(body: Dispatch[], records: number, after?: (enc: GPUCommandEncoder, first: number, count: number) => void): void {
    for (let s0 = 0; s0 < records; s0 += this.stepsPerSubmit) {
      const n = Math.min(this.stepsPerSubmit, records - s0);
      const enc = this.device.createCommandEncoder({ label: 'tessera steps' });
      const pass = enc.beginComputePass({ label: 'tessera steps' });
      const dyn = [0];
      for (let s = s0; s < s0 + n; s++) {
        dyn[0] = s * CTX_STRIDE;
        for (const op of body) {
          pass.setPipeline(op.pipeline);
          pass.setBindGroup(0, op.group, dyn);
          pass.dispatchWorkgroups(op.x, op.y);
        }
      }
      pass.end();
      after?.(enc, s0, n);
      this.device.queue.submit([enc.finish()]);
    }
  }

  async readMetrics(): Promise<TrainMetrics> {
    this.live();
    const m = await this.readU32(this.trainMetrics, 4, 'readMetrics');
    this.device.queue.writeBuffer(this.trainMetrics, 0, new Uint32Array(4));
    const out = { lossSum: m[0] + m[1] / 16777216, correct: m[2], samples: this.samples };
    this.samples = 0;
    return out;
  }

  // ---------------------------------------------------------------- inference

  async evaluate(slot: DatasetSlot): Promise<EvalResult> {
    const d = this.need(slot);
    if (d.features !== this.graph.inputFeatures) throw new Error(`${slot} dataset has ${d.features} features per example, the model takes ${this.graph.inputFeatures}`);
    this.device.queue.writeBuffer(this.evalMetrics, 0, new Uint32Array(4));
    const body = [await this.gatherDispatch(slot, d, false), ...this.inferBody];
    await this.runBatches(d.count, body, 'evaluate');
    const m = await this.readU32(this.evalMetrics, 4, 'evaluate');
    const lossSum = m[0] + m[1] / 16777216;
    return { loss: lossSum / d.count, accuracy: m[2] / d.count, correct: m[2], samples: d.count };
  }

  /** Run `body` once per batch of `count` rows in sequence (record: offset = first row, rows). */
  private async runBatches(count: number, body: Dispatch[], what: string, after?: (enc: GPUCommandEncoder, first: number, n: number) => void): Promise<void> {
    const B = this.graph.batchSize;
    const batches = Math.ceil(count / B);
    await withErrorScopes(this.device, what, () => {
      const view = new DataView(this.ctxStaging);
      for (let c0 = 0; c0 < batches; c0 += CTX_RECORDS) {
        const n = Math.min(CTX_RECORDS, batches - c0);
        for (let i = 0; i < n; i++) {
          const offset = (c0 + i) * B;
          writeCtx(view, i, { offset, rows: Math.min(B, count - offset), step: 0, alpha: 0, invRows: 0 });
        }
        this.device.queue.writeBuffer(this.ctx, 0, this.ctxStaging, 0, n * CTX_STRIDE);
        this.encode(body, n, after);
      }
    });
    await this.wait(what);
  }

  async predict(images: Uint8Array, count: number): Promise<Float32Array> {
    this.live();
    const { inputFeatures: F, classes: C } = this.graph;
    if (images.length < count * F) throw new Error(`predict: ${count} images of ${F} pixels need ${count * F} bytes, got ${images.length}`);
    if (count === 0) return new Float32Array(0);
    const data = this.upload('predict', { images, labels: new Uint8Array(count), count, features: F });
    const outBytes = count * C * 4;
    if (outBytes > this.device.limits.maxStorageBufferBindingSize) throw new WebGpuError(`predict: ${count} rows of ${C} probabilities do not fit one storage binding; predict fewer images per call`);
    const probs = this.device.createBuffer({ label: 'tessera predict probs', size: align(outBytes, 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    try {
      const gather = await this.gatherDispatch('predict', data, false);
      const softmax: Dispatch = {
        pipeline: this.predictSoftmax!, kernel: 'softmax', x: Math.ceil(this.graph.batchSize / 64), y: 1,
        group: this.kernels.bindGroup('softmax', 'predict', this.ctx, [this.range(this.graph.logits), { buffer: probs }]),
      };
      const body = [gather, ...this.inferBody.filter((op) => op.kernel !== 'softmax_xent'), softmax];
      await this.runBatches(count, body, 'predict');
      return await this.readF32(probs, 0, count * C, 'predict');
    } finally {
      this.dropGather('predict');
      data.images.destroy();
      data.labels.destroy();
      probs.destroy();
    }
  }

  // ---------------------------------------------------------------- parameters

  async readParams(): Promise<Float32Array[]> {
    this.live();
    const all = await this.readF32(this.arenas.params, 0, this.arenas.floats, 'readParams');
    return this.graph.params.map((p, i) => all.slice(this.arenas.offsets[i], this.arenas.offsets[i] + p.size));
  }

  async writeParams(params: Float32Array[]): Promise<void> {
    this.live();
    this.graph.params.forEach((p, i) => {
      if (!params[i] || params[i].length !== p.size) throw new Error(`parameter ${p.name}: expected ${p.size} values, got ${params[i]?.length}`);
      this.device.queue.writeBuffer(this.arenas.params, this.arenas.offsets[i] * 4, params[i].buffer, params[i].byteOffset, p.size * 4);
    });
  }

  async resetOptimizer(): Promise<void> {
    this.live();
    const enc = this.device.createCommandEncoder();
    enc.clearBuffer(this.arenas.m);
    enc.clearBuffer(this.arenas.v);
    this.device.queue.submit([enc.finish()]);
  }

  /** Test hook: a copy of a graph buffer's current contents (per-row buffers hold batchSize rows). */
  async readBuffer(name: string): Promise<Float32Array> {
    const r = this.ranges.get(name);
    if (!r) throw new Error(`webgpu: graph buffer '${name}' was not allocated`);
    return this.readF32(r.buffer, r.offset, r.size / 4, `readBuffer ${name}`);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.releaseModel();
    for (const d of Object.values(this.data)) { d?.images.destroy(); d?.labels.destroy(); }
    this.data = {};
    this.order.buffer?.destroy();
    this.order.buffer = null;
    this.device.destroy();
  }

  private releaseModel(): void {
    for (const b of this.owned) b.destroy();
    this.owned = [];
    this.ranges.clear();
    this.gatherCache.clear();
    this.dropoutSlots.clear();
    this.evalScratchBuffer = null;
    this.unusedBuffer = null;
    this.trainBody = [];
    this.inferBody = [];
    this.samples = 0;
  }

  // ---------------------------------------------------------------- plumbing

  private live(): void {
    if (this.disposed) throw new Error('the webgpu backend was disposed');
    if (this.lostInfo) throw new WebGpuError(`WebGPU device lost (${this.lostInfo.reason}): ${this.lostInfo.message || 'no message'}`);
    if (this.uncaptured) throw this.uncaptured;
  }

  private need(slot: DatasetSlot): Resident {
    this.live();
    if (!this.graph) throw new Error('the webgpu backend was not prepared with a graph');
    const d = this.data[slot];
    if (!d) throw new Error(`no ${slot} dataset was uploaded to the webgpu backend`);
    return d;
  }

  /** Await a GPU promise, but fail (never hang) if the device is lost or nothing happens for watchdogMs. */
  private async guard<T>(p: Promise<T>, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const watchdog = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WebGpuError(`WebGPU: ${what} did not complete within ${this.watchdogMs / 1000} s (the GPU or driver stopped making progress)`)), this.watchdogMs);
      (timer as { unref?: () => void }).unref?.();
    });
    try {
      return await Promise.race([p, this.lostPromise.catch((e: Error) => { throw new WebGpuError(`${e.message} (during ${what})`); }), watchdog]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Wait until the queue has drained, then surface any uncaptured error. */
  private async wait(what: string): Promise<void> {
    await this.guard(this.device.queue.onSubmittedWorkDone(), what);
    if (this.uncaptured) throw this.uncaptured;
  }

  private async readRaw(src: GPUBuffer, offset: number, bytes: number, what: string): Promise<ArrayBuffer> {
    const staging = this.device.createBuffer({ label: `tessera read ${what}`, size: align(bytes, 4), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      await withErrorScopes(this.device, what, () => {
        const enc = this.device.createCommandEncoder({ label: `tessera read ${what}` });
        enc.copyBufferToBuffer(src, offset, staging, 0, align(bytes, 4));
        this.device.queue.submit([enc.finish()]);
      });
      await this.guard(staging.mapAsync(GPUMapMode.READ), what);
      if (this.uncaptured) throw this.uncaptured;
      return staging.getMappedRange().slice(0, bytes);
    } finally {
      staging.destroy();
    }
  }

  private async readF32(src: GPUBuffer, offset: number, floats: number, what: string): Promise<Float32Array> {
    return new Float32Array(await this.readRaw(src, offset, floats * 4, what));
  }

  private async readU32(src: GPUBuffer, words: number, what: string): Promise<Uint32Array> {
    return new Uint32Array(await this.readRaw(src, 0, words * 4, what));
  }
}
