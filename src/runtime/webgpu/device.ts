// The WebGPU device and its error plumbing, shared by the webgpu backend and
// the bench's op runner: a lost device, uncaptured errors and a watchdog
// turn into Errors that name what was running, and every wait on the GPU
// races them, so nothing hangs. Browser-safe.

import { describeGpuError, WebGpuError, withErrorScopes } from './errors.js';

export class GpuSession {
  private lostInfo: GPUDeviceLostInfo | null = null;
  private readonly lostPromise: Promise<never>;
  private uncaptured: WebGpuError | null = null;

  constructor(readonly device: GPUDevice, readonly watchdogMs: number) {
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

  /** Whether the device is gone (every later use fails). */
  get lost(): boolean {
    return this.lostInfo !== null;
  }

  /** Throws if the device was lost or an uncaptured error happened. */
  live(): void {
    if (this.lostInfo) throw new WebGpuError(`WebGPU device lost (${this.lostInfo.reason}): ${this.lostInfo.message || 'no message'}`);
    if (this.uncaptured) throw this.uncaptured;
  }

  /** Await a GPU promise, but fail (never hang) if the device is lost or nothing happens for watchdogMs. */
  async guard<T>(p: Promise<T>, what: string): Promise<T> {
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
  async wait(what: string): Promise<void> {
    await this.guard(this.device.queue.onSubmittedWorkDone(), what);
    if (this.uncaptured) throw this.uncaptured;
  }

  async readRaw(src: GPUBuffer, offset: number, bytes: number, what: string): Promise<ArrayBuffer> {
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.device.createBuffer({ label: `tessera read ${what}`, size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      await withErrorScopes(this.device, what, () => {
        const enc = this.device.createCommandEncoder({ label: `tessera read ${what}` });
        enc.copyBufferToBuffer(src, offset, staging, 0, size);
        this.device.queue.submit([enc.finish()]);
      });
      await this.guard(staging.mapAsync(GPUMapMode.READ), what);
      if (this.uncaptured) throw this.uncaptured;
      return staging.getMappedRange().slice(0, bytes);
    } finally {
      staging.destroy();
    }
  }

  async readF32(src: GPUBuffer, offset: number, floats: number, what: string): Promise<Float32Array> {
    return new Float32Array(await this.readRaw(src, offset, floats * 4, what));
  }

  async readU32(src: GPUBuffer, offset: number, words: number, what: string): Promise<Uint32Array> {
    return new Uint32Array(await this.readRaw(src, offset, words * 4, what));
  }
}
