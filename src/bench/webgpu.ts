// The webgpu backend's op runner: the WGSL kernels of kernels/wgsl (or a
// user's kernel for one op) dispatched on the buffers of one op, the way the
// webgpu backend dispatches them (same pipelines, constants and grids:
// KernelSet and matmulDispatch of src/runtime/webgpu/kernels.ts).
//
// Timing: with the adapter's 'timestamp-query' feature, GPU timestamps
// around a compute pass of `calls` dispatches; otherwise the wall time of
// one submit of `calls` back-to-back dispatches until the queue drains,
// divided by `calls` (the per-dispatch overhead, 5–9 µs on llvmpipe, is
// included: it is paid in training too). Every wait races the device-lost
// promise and a watchdog, so a kernel that hangs or kills the device is
// reported with its name instead of hanging bench.

import { adamStepSize } from '../runtime/reference/kernels.js';
import { dropoutScale, dropoutThreshold } from '../runtime/rng.js';
import { withErrorScopes, WebGpuError } from '../runtime/webgpu/errors.js';
import { CTX_BYTES, CTX_STRIDE, grid1d, KERNEL_BINDINGS, KernelSet, matmulDispatch, writeCtx, type Constants, type KernelName } from '../runtime/webgpu/kernels.js';
import type { CustomKernel } from '../runtime/backends/webgpu.js';
import { CUSTOM_WGSL_CONTRACTS, toCustomKernel, type WgslKernel } from './custom-wgsl.js';
import { ADAM, ADAM_T, DROPOUT_KEY, DROPOUT_RATE, type OpCase, type OpData } from './ops.js';
import { KernelRejectedError, type OpRunner, type PreparedKernel } from './runner.js';
import { timeBatched } from './stats.js';

export interface WebGpuRunnerOptions {
  /** Longest wait for one submit before the kernel is declared hung (default 30 s). */
  watchdogMs?: number;
}

interface Step { pipeline: GPUComputePipeline; group: GPUBindGroup; grid: [number, number]; kernel: string }

export class WebGpuOpRunner implements OpRunner {
  readonly backend = 'webgpu' as const;
  readonly kernels: KernelSet;
  readonly timestamps: boolean;
  private lost: GPUDeviceLostInfo | null = null;
  private readonly lostPromise: Promise<never>;
  private readonly watchdogMs: number;
  private customKernels = new Map<WgslKernel, CustomKernel>();

  private constructor(readonly device: GPUDevice, readonly description: string, options: WebGpuRunnerOptions) {
    this.kernels = new KernelSet(device);
    this.timestamps = device.features.has('timestamp-query');
    this.watchdogMs = options.watchdogMs ?? 30_000;
    this.lostPromise = device.lost.then((info) => {
      this.lost = info;
      throw new WebGpuError(`WebGPU device lost (${info.reason}): ${info.message || 'no message'}`);
    });
    this.lostPromise.catch(() => {});
  }

  static async create(adapter: GPUAdapter, description: string, options: WebGpuRunnerOptions = {}): Promise<WebGpuOpRunner> {
    const requiredFeatures: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
    const device = await adapter.requestDevice({
      label: 'tessera bench',
      requiredFeatures,
      requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
    });
    const timing = requiredFeatures.length ? 'timestamp queries' : 'no timestamp-query: many dispatches per submit';
    return new WebGpuOpRunner(device, `${description}; ${timing}`, options);
  }

  /** A runner on a device someone else owns (a backend's): dispose() leaves the device alone. */
  static fromDevice(device: GPUDevice, description: string, options: WebGpuRunnerOptions = {}): WebGpuOpRunner {
    const r = new WebGpuOpRunner(device, description, options);
    r.ownsDevice = false;
    return r;
  }

  private ownsDevice = true;

  /** Whether the device is gone (a lost device ends every later webgpu case). */
  get deviceLost(): boolean {
    return this.lost !== null;
  }

  supports(): boolean {
    return true;
  }

  /** A runner view whose prepare() uses the user's kernel `k` for its op (same device). */
  withKernel(k: WgslKernel): Pick<OpRunner, 'prepare'> {
    return { prepare: (c, data) => this.prepare(c, data, c.op === k.op ? k : undefined) };
  }

  private buffer(data: ArrayBufferView | number, label: string): GPUBuffer {
    const bytes = typeof data === 'number' ? data : data.byteLength;
    const b = this.device.createBuffer({ label: `tessera bench ${label}`, size: Math.max(16, Math.ceil(bytes / 16) * 16), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    if (typeof data !== 'number') this.device.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
    return b;
  }

  private async builtinStep(kernel: KernelName, constants: Constants, ctx: GPUBuffer, bufs: GPUBuffer[], grid: [number, number]): Promise<Step> {
    const pipeline = await this.kernels.pipeline(kernel, constants);
    const group = this.kernels.bindGroup(kernel, 'bench', ctx, bufs.map((buffer) => ({ buffer })));
    return { pipeline, group, grid, kernel };
  }

  /** A step running the user's kernel for its op on the contract layout of the built-in `layoutOf`. */
  private async customStep(k: WgslKernel, layoutOf: KernelName, values: Record<string, number | boolean>, ctx: GPUBuffer, bufs: GPUBuffer[], M: number, K: number, N: number): Promise<Step> {
    let ck = this.customKernels.get(k);
    if (!ck) { ck = toCustomKernel(k); this.customKernels.set(k, ck); }
    const out = CUSTOM_WGSL_CONTRACTS[k.op].output;
    const { pipeline, grid } = await ck.build(this.device, this.kernels.layout(layoutOf), values, out.rows === 'M' ? M : K, out.cols === 'N' ? N : K);
    const group = this.kernels.bindGroup(layoutOf, `bench custom ${k.file}`, ctx, bufs.map((buffer) => ({ buffer })));
    return { pipeline, group, grid, kernel: `${k.op} (${k.file})` };
  }

  async prepare(c: OpCase, data: OpData, custom?: WgslKernel): Promise<PreparedKernel> {
    if (this.lost) throw new WebGpuError(`WebGPU device lost earlier (${this.lost.message || this.lost.reason})`);
    const d = this.device;
    const owned: GPUBuffer[] = [];
    const buf = (x: ArrayBufferView | number, label: string) => { const b = this.buffer(x, label); owned.push(b); return b; };
    const ctx = d.createBuffer({ label: 'tessera bench ctx', size: CTX_STRIDE, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    owned.push(ctx);
    const M = c.dims[0]!;
    const rec = new ArrayBuffer(CTX_STRIDE);
    writeCtx(new DataView(rec), 0, { offset: 0, rows: c.op === 'adam' ? 1 : M, step: ADAM_T - 1, alpha: adamStepSize(ADAM, ADAM_T), invRows: 1 / M, keys: [DROPOUT_KEY] });
    d.queue.writeBuffer(ctx, 0, rec);
    const outputs: Record<string, { buffer: GPUBuffer; floats: number }> = {};
    const steps: Step[] = [];
    let metrics: GPUBuffer | null = null;
    const ins: Record<string, GPUBuffer> = {};
    for (const [name, a] of Object.entries(data.inputs)) ins[name] = buf(a, name);
    const out = (name: string) => {
      const floats = data.expected[name]!.length;
      const b = ins[name] ?? buf(floats * 4, name);
      outputs[name] = { buffer: b, floats };
      return b;
    };
    let rejected: KernelRejectedError | undefined;
    const customStep = async (...a: Parameters<WebGpuOpRunner['customStep']>) => {
      try {
        return await this.customStep(...a);
      } catch (e) {
        if (e instanceof KernelRejectedError) rejected = e;
        throw e;
      }
    };
    await withErrorScopes(d, `${c.op} bench setup`, async () => {
      switch (c.op) {
        case 'dense_forward': {
          const [, K, N] = c.dims as [number, number, number];
          const bufs = [ins.x!, ins.w!, ins.b!, out('y')];
          const values = { K, N, HAS_BIAS: true, RELU: true };
          if (custom) { steps.push(await customStep(custom, 'dense_forward', values, ctx, bufs, M, K, N)); break; }
          const kernel = K % 4 === 0 && N % 4 === 0 ? 'dense_forward_vec4' : 'dense_forward';
          const { constants, grid } = matmulDispatch(kernel, M, K, N);
          steps.push(await this.builtinStep(kernel, { ...values, ...constants }, ctx, bufs, grid));
          break;
        }
        case 'dense_backward_weights': {
          const [, K, N] = c.dims as [number, number, number];
          const bufs = [ins.x!, ins.dy!, out('dw')];
          if (custom) steps.push(await customStep(custom, 'dense_backward_weights', { K, N }, ctx, bufs, M, K, N));
          else {
            const kernel = K % 4 === 0 && N % 4 === 0 ? 'dense_backward_weights_vec4' : 'dense_backward_weights';
            const { constants, grid } = matmulDispatch(kernel, M, K, N);
            steps.push(await this.builtinStep(kernel, { K, N, ...constants }, ctx, bufs, grid));
          }
          steps.push(await this.builtinStep('bias_grad', { N }, ctx, [ins.dy!, out('db')], [Math.ceil(N / 64), 1]));
          break;
        }
        case 'dense_backward_input': {
          const [, K, N] = c.dims as [number, number, number];
          const bufs = [ins.dy!, ins.w!, ins.reluOut!, out('dx')];
          const values = { K, N, RELU_MASK: true };
          if (custom) { steps.push(await customStep(custom, 'dense_backward_input', values, ctx, bufs, M, K, N)); break; }
          const kernel = K % 4 === 0 && N % 4 === 0 ? 'dense_backward_input_vec4' : 'dense_backward_input';
          const { constants, grid } = matmulDispatch(kernel, M, K, N);
          steps.push(await this.builtinStep(kernel, { ...values, ...constants }, ctx, bufs, grid));
          break;
        }
        case 'relu_backward': {
          const F = c.dims[1]!;
          steps.push(await this.builtinStep('relu_backward', { FEATURES: F }, ctx, [ins.dy!, ins.y!, out('dx')], grid1d(M * F)));
          break;
        }
        case 'dropout': {
          const F = c.dims[1]!;
          steps.push(await this.builtinStep('dropout', { FEATURES: F, THRESHOLD: dropoutThreshold(DROPOUT_RATE), SCALE: dropoutScale(DROPOUT_RATE), KEY_SLOT: 0 }, ctx, [ins.x!, out('y')], grid1d(M * F)));
          break;
        }
        case 'softmax_xent': {
          const C = c.dims[1]!;
          metrics = buf(new Uint32Array(4), 'metrics');
          steps.push(await this.builtinStep('softmax_xent', { C, HAS_GRAD: true }, ctx, [ins.logits!, buf(data.labels!, 'labels'), out('dlogits'), metrics], [1, 1]));
          break;
        }
        case 'adam': {
          const n = c.dims[0]!;
          const n4 = Math.ceil(n / 4);
          const pad = (a: Float32Array) => { const p = new Float32Array(n4 * 4); p.set(a); return p; };
          for (const name of ['p', 'g', 'm', 'v']) { ins[name] = buf(pad(data.inputs[name]!), name); }
          for (const name of ['p', 'm', 'v']) out(name);
          steps.push(await this.builtinStep('adam', {
            COUNT4: n4, B1: ADAM.beta1, B2: ADAM.beta2, B1C: Math.fround(1 - ADAM.beta1), B2C: Math.fround(1 - ADAM.beta2), EPS: ADAM.epsilon,
          }, ctx, [ins.p!, ins.g!, ins.m!, ins.v!], [Math.min(64, Math.ceil(n4 / 64)), 1]));
          break;
        }
      }
    }, custom?.op).catch((e: unknown) => {
      for (const b of owned) b.destroy();
      throw rejected ?? e;
    });
    const what = custom ? `the custom ${c.op} kernel (${custom.file})` : `kernel ${steps.map((s) => s.kernel).join(' + ')}`;

    const submit = async (calls: number, timestamps: boolean): Promise<number | null> => {
      const enc = d.createCommandEncoder({ label: 'tessera bench' });
      let qs: GPUQuerySet | null = null, resolve: GPUBuffer | null = null, read: GPUBuffer | null = null;
      if (timestamps) {
        qs = d.createQuerySet({ type: 'timestamp', count: 2 });
        resolve = d.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
        read = d.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      }
      const pass = enc.beginComputePass(qs ? { timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {});
      for (let i = 0; i < calls; i++) {
        for (const s of steps) {
          pass.setPipeline(s.pipeline);
          pass.setBindGroup(0, s.group, [0]);
          pass.dispatchWorkgroups(s.grid[0], s.grid[1]);
        }
      }
      pass.end();
      if (qs) {
        enc.resolveQuerySet(qs, 0, 2, resolve!, 0);
        enc.copyBufferToBuffer(resolve!, 0, read!, 0, 16);
      }
      d.queue.submit([enc.finish()]);
      await this.guard(d.queue.onSubmittedWorkDone(), what);
      if (!qs) return null;
      await this.guard(read!.mapAsync(GPUMapMode.READ), what);
      const t = new BigUint64Array(read!.getMappedRange().slice(0));
      qs.destroy(); resolve!.destroy(); read!.destroy();
      return Number(t[1]! - t[0]!) / 1e9;
    };

    const readBack = async (b: GPUBuffer, bytes: number): Promise<ArrayBuffer> => {
      const s = d.createBuffer({ size: Math.ceil(bytes / 4) * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const enc = d.createCommandEncoder();
      enc.copyBufferToBuffer(b, 0, s, 0, s.size);
      d.queue.submit([enc.finish()]);
      await this.guard(s.mapAsync(GPUMapMode.READ), what);
      const r = s.getMappedRange().slice(0, bytes);
      s.destroy();
      return r;
    };

    return {
      check: async () => {
        await withErrorScopes(d, what, () => submit(1, false), custom?.op);
        const arrays: Record<string, Float32Array> = {};
        for (const [name, o] of Object.entries(outputs)) arrays[name] = new Float32Array(await readBack(o.buffer, o.floats * 4));
        let scalars: Record<string, number> | undefined;
        if (metrics) {
          const m = new Uint32Array(await readBack(metrics, 16));
          scalars = { lossSum: m[0]! + m[1]! / 16777216, correct: m[2]! };
        }
        return { arrays, scalars };
      },
      time: async (o) => {
        if (!this.timestamps) return timeBatched(async (calls) => { await submit(calls, false); }, o);
        // GPU time of the pass, per call; the wall clock only paces the repeats.
        let gpuSeconds: number[] = [];
        let lastCalls = 1;
        const wall = await timeBatched(async (calls) => { lastCalls = calls; gpuSeconds.push((await submit(calls, true))! / calls); }, o);
        gpuSeconds = gpuSeconds.slice(-wall.repeats);
        const s = [...gpuSeconds].sort((a, b) => a - b);
        return { median: s[s.length >> 1]!, min: s[0]!, max: s[s.length - 1]!, repeats: s.length, callsPerRepeat: lastCalls };
      },
      dispose: () => { for (const b of owned) b.destroy(); },
    };
  }

  /** Await GPU work, failing (never hanging) on a lost device or after watchdogMs. */
  async guard<T>(p: Promise<T>, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const watchdog = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WebGpuError(`WebGPU: ${what} did not finish within ${this.watchdogMs / 1000} s (a hang, or far too slow)`)), this.watchdogMs);
    });
    try {
      return await Promise.race([p, this.lostPromise.catch((e: Error) => { throw new WebGpuError(`${e.message} (while running ${what})`); }), watchdog]);
    } finally {
      clearTimeout(timer);
    }
  }

  dispose(): void {
    if (this.ownsDevice) this.device.destroy();
  }
}

// Layout sizes used by docs/kernels.md (kept here so the docs can cite one place).
export const CONTEXT_BYTES = CTX_BYTES;
export const CONTRACT_BINDINGS = KERNEL_BINDINGS;
