// The webgpu backend's op runner: one op instance dispatched by the op's
// registered `webgpu.dispatches` in a GpuEnv built like the backend's
// (src/runtime/webgpu/op-env.ts) over the instance's own buffers: same
// pipelines, constants, grids, and the same path for a user's kernel.
//
// The context record is what a training step writes: rows, step, the Adam
// step size for t = step + 1, 1/rows, and each dropout stream's key
// rngKey(seed, stream, step) in the slots the op asked for, and the batch
// offset into the order for gather, whose instance brings a dataset
// (uploaded packed 4 bytes per u32 as the backend does, src/runtime/webgpu/
// datasets.ts) and whose labels output is the u32 label buffer.
//
// Timing: with the adapter's 'timestamp-query' feature, GPU timestamps
// around a compute pass of `calls` repetitions; otherwise the wall time of
// one submit of `calls` back-to-back repetitions until the queue drains,
// divided by `calls` (the per-dispatch overhead, 5–9 µs on llvmpipe, is
// included: it is paid in training too). Every wait goes through the
// GpuSession (device loss, watchdog), so a kernel that hangs or kills the
// device is reported with its name instead of hanging bench.

import { LABELS_BUFFER } from '../ops/gather.js';
import { opDef } from '../ops/index.js';
import { adamStepSize } from '../ops/adam.js';
import type { GpuDispatch } from '../ops/types.js';
import { rngKey } from '../runtime/rng.js';
import { GpuSession } from '../runtime/webgpu/device.js';
import { withErrorScopes } from '../runtime/webgpu/errors.js';
import { CTX_STRIDE, KernelSet, MAX_DROPOUT_KEYS, writeCtx } from '../runtime/webgpu/kernels.js';
import { metricOffset } from '../runtime/webgpu/memory.js';
import { opEnv, type CustomKernel } from '../runtime/webgpu/op-env.js';
import { KernelRejectedError } from '../custom/errors.js';
import { toCustomKernel, type WgslKernel } from '../custom/wgsl.js';
import { BENCH_METRIC_ACCUMULATORS, instanceBuffers, labelsAsFloats, scalarsOf, type OpCase, type OpData } from './ops.js';
import type { OpRunner, PreparedKernel } from './runner.js';
import { timeBatched } from './stats.js';

export interface WebGpuRunnerOptions {
  /** Longest wait for one submit before the kernel is declared hung (default 30 s). */
  watchdogMs?: number;
}

export class WebGpuOpRunner implements OpRunner {
  readonly backend = 'webgpu' as const;
  readonly kernels: KernelSet;
  readonly session: GpuSession;
  readonly timestamps: boolean;
  private customKernels = new Map<WgslKernel, CustomKernel>();
  private ownsDevice = true;

  private constructor(readonly device: GPUDevice, readonly description: string, options: WebGpuRunnerOptions) {
    this.kernels = new KernelSet(device);
    this.session = new GpuSession(device, options.watchdogMs ?? 30_000);
    this.timestamps = device.features.has('timestamp-query');
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

  /** Whether the device is gone (a lost device ends every later webgpu case). */
  get deviceLost(): boolean {
    return this.session.lost;
  }

  supports(): boolean {
    return true;
  }

  /** A runner view whose prepare() uses the user's kernel `k` for its op (same device). */
  withKernel(k: WgslKernel): Pick<OpRunner, 'prepare'> {
    return { prepare: (c, data) => this.prepare(c, data, c.op === k.op ? k : undefined) };
  }

  async prepare(c: OpCase, data: OpData, custom?: WgslKernel): Promise<PreparedKernel> {
    this.session.live();
    const d = this.device;
    const inst = data.instance;
    const def = opDef(c.op);
    const owned: GPUBuffer[] = [];
    // GPUBufferUsage exists only once a WebGPU implementation is loaded: read it here, not at import.
    const upload = (a: ArrayBufferView | number, label: string, usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST) => {
      const bytes = typeof a === 'number' ? a : a.byteLength;
      // Whole vec4s, zero-padded: kernels such as adam read parameters as vec4 arenas.
      const b = d.createBuffer({ label: `tessera bench ${label}`, size: Math.max(16, Math.ceil(bytes / 16) * 16), usage });
      if (typeof a !== 'number') d.queue.writeBuffer(b, 0, a.buffer, a.byteOffset, a.byteLength);
      owned.push(b);
      return b;
    };
    const initial = instanceBuffers(inst);
    const buffers = new Map<string, GPUBuffer>();
    const named = (name: string) => {
      let b = buffers.get(name);
      if (!b) {
        const a = initial[name];
        if (!a) throw new Error(`the ${c.op} bench instance has no buffer '${name}'`);
        b = upload(a, name);
        buffers.set(name, b);
      }
      return b;
    };
    let unused: GPUBuffer | null = null, scratch: GPUBuffer | null = null;
    const labels = inst.outputs[LABELS_BUFFER] !== undefined ? named(LABELS_BUFFER) : upload(inst.labels ?? new Uint32Array(inst.rows), 'labels');
    const ds = inst.dataset;
    const packed = (a: Uint8Array | Uint32Array, label: string) => {
      const p = new Uint8Array(Math.ceil(a.byteLength / 4) * 4); // writeBuffer takes whole words
      p.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      return { buffer: upload(p, label) };
    };
    const dataset = ds ? {
      images: packed(ds.images, 'images'), labels: packed(ds.labels, 'dataset labels'), order: packed(ds.order, 'order'), label: 'bench ordered',
      targets: ds.targets ? { buffer: upload(ds.targets, 'targets') } : null,
    } : null;
    const metricWords = (metricOffset(d, BENCH_METRIC_ACCUMULATORS - 1) + 16) / 4;
    const metrics = upload(new Uint32Array(metricWords), 'metrics');
    const ctx = upload(CTX_STRIDE, 'ctx', GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    const streams: number[] = [];
    let rejected: KernelRejectedError | undefined;
    const user = custom ? this.rejectionCatcher(custom, (e) => { rejected = e; }) : undefined;
    const env = opEnv(this.kernels, def, {
      B: inst.rows,
      mode: 'train',
      ctx,
      range: (name) => ({ buffer: name === null ? (unused ??= upload(16, 'unused')) : named(name) }),
      scratch: () => ({ buffer: (scratch ??= upload(16, 'scratch')) }),
      labels: () => ({ buffer: labels }),
      metrics: (k) => ({ buffer: metrics, offset: metricOffset(d, k), size: 16 }),
      dataset: () => dataset,
      keySlot: (stream) => {
        if (!streams.includes(stream)) streams.push(stream);
        const slot = streams.indexOf(stream);
        if (slot >= MAX_DROPOUT_KEYS) throw new Error(`${c.op}: more than ${MAX_DROPOUT_KEYS} dropout streams`);
        return slot;
      },
      optimizer: inst.optimizer,
      prefer: { denseForward: 'register' },
      custom: user,
    });
    let steps: GpuDispatch[];
    try {
      steps = await withErrorScopes(d, `${c.op} bench setup`, () => def.webgpu.dispatches(inst.op, env), custom?.op);
    } catch (e) {
      for (const b of owned) b.destroy();
      throw rejected ?? e;
    }
    const rec = new ArrayBuffer(CTX_STRIDE);
    writeCtx(new DataView(rec), 0, {
      offset: ds?.start ?? 0, rows: inst.rows, step: inst.step, alpha: adamStepSize(inst.optimizer, inst.step + 1), invRows: 1 / inst.rows, lr: inst.optimizer.learningRate,
      keys: streams.map((s) => rngKey(inst.seed, s, inst.step)),
    });
    d.queue.writeBuffer(ctx, 0, rec);
    const what = custom ? `the custom ${c.op} kernel (${custom.file})` : `kernel ${steps.map((s) => s.kernel).join(' + ')}`;
    const submit = (calls: number, timestamps: boolean) => this.submit(steps, calls, timestamps, what);
    const wantScalars = data.scalars !== undefined;

    return {
      check: async () => {
        await withErrorScopes(d, what, () => submit(1, false), custom?.op);
        const arrays: Record<string, Float32Array> = {};
        for (const [name, n] of Object.entries(inst.outputs)) {
          const a = await this.session.readF32(named(name), 0, n, what);
          arrays[name] = name === LABELS_BUFFER ? labelsAsFloats(a, inst.rows) : a;
        }
        if (!wantScalars) return { arrays };
        const m = await this.session.readU32(metrics, 0, metricWords, what);
        const fixed = (at: number) => m[at]! + m[at + 1]! / 16777216;
        return { arrays, scalars: scalarsOf(data.scalars!, fixed(0), m[2]!, (k) => fixed(metricOffset(d, k) / 4)) };
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

  /** The user's kernel (compiled once per runner), remembering a KernelRejectedError that error scopes would rewrap. */
  private rejectionCatcher(k: WgslKernel, onReject: (e: KernelRejectedError) => void): CustomKernel {
    let ck = this.customKernels.get(k);
    if (!ck) { ck = toCustomKernel(k); this.customKernels.set(k, ck); }
    const inner = ck;
    return {
      label: k.file,
      build: async (...args) => {
        try {
          return await inner.build(...args);
        } catch (e) {
          if (e instanceof KernelRejectedError) onReject(e);
          throw e;
        }
      },
    };
  }

  /** One submit of `calls` repetitions of the dispatches; with timestamps, the pass's GPU seconds. */
  private async submit(steps: GpuDispatch[], calls: number, timestamps: boolean, what: string): Promise<number | null> {
    const d = this.device;
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
        pass.dispatchWorkgroups(s.x, s.y);
      }
    }
    pass.end();
    if (qs) {
      enc.resolveQuerySet(qs, 0, 2, resolve!, 0);
      enc.copyBufferToBuffer(resolve!, 0, read!, 0, 16);
    }
    d.queue.submit([enc.finish()]);
    await this.session.guard(d.queue.onSubmittedWorkDone(), what);
    if (!qs) return null;
    await this.session.guard(read!.mapAsync(GPUMapMode.READ), what);
    const t = new BigUint64Array(read!.getMappedRange().slice(0));
    qs.destroy(); resolve!.destroy(); read!.destroy();
    return Number(t[1]! - t[0]!) / 1e9;
  }

  dispose(): void {
    if (this.ownsDevice) this.device.destroy();
  }
}
