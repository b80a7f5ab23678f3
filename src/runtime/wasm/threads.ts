// The host side of the threaded wasm backend: N workers over one shared
// WebAssembly.Memory (kernels/as/threads.ts is the other side). A command
// (a chunk of training steps, an evaluation) is its arguments written into
// the control block, then a bump of the generation counter and an
// Atomics.notify; the workers run it to the end among themselves and count
// themselves done, and the host awaits that count with Atomics.waitAsync.
// Nothing is posted per step.
//
// Failure: a worker that throws, traps or exits is an error naming it. The
// pool then raises ABORT (the other workers trap out of their barrier
// waits), wakes the waiting host, terminates every worker, and every later
// command fails with the same error. Browser-safe: no Node imports.

import type { WorkerHandle, WorkerSpawner } from './workers.js';

/** Byte offsets in the control block (kernels/as/threads.ts controlLayout). */
export interface ControlLayout { gen: number; done: number; barN: number; barGen: number; abort: number; cmd: number; args: number; f64s: number; bytes: number }

export const CMD_TRAIN = 1;
export const CMD_INFER = 2;
export const CMD_EXIT = 3;

const START_TIMEOUT_MS = 120_000;

export interface PoolOptions {
  spawner: WorkerSpawner;
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  threads: number;
  ctrl: number;
  layout: ControlLayout;
  /** Per-worker scratch (threadScratchBytes() bytes each). */
  scratch: number[];
  /** Tests: worker `worker` traps at global step `step`, or fails to start. */
  fault?: { worker: number; step?: number; start?: boolean };
}

export class WasmThreadPool {
  private failure: Error | null = null;
  private readonly workers: WorkerHandle[] = [];
  private running = false;
  private wakeHost: (() => void) | null = null;
  private readonly startTimers: ReturnType<typeof setTimeout>[] = [];

  private constructor(private readonly o: PoolOptions) {}

  get threads(): number {
    return this.o.threads;
  }

  /** Starts the workers; resolves when every one has instantiated the module, rejects naming the first that failed. */
  static async start(o: PoolOptions): Promise<WasmThreadPool> {
    const pool = new WasmThreadPool(o);
    const i32 = pool.view();
    for (let i = o.ctrl >> 2; i < (o.ctrl + o.layout.bytes) >> 2; i++) Atomics.store(i32, i, 0); // every counter, the barrier's sleepers included
    const ready: Promise<void>[] = [];
    for (let tid = 0; tid < o.threads; tid++) {
      const name = `wasm thread worker ${tid + 1} of ${o.threads}`;
      const w = o.spawner.spawn({
        module: o.module, memory: o.memory, ctrl: o.ctrl, tid, threads: o.threads, scratch: o.scratch[tid]!,
        trapStep: o.fault?.worker === tid && o.fault.step !== undefined ? o.fault.step : -1,
        failStart: o.fault?.worker === tid && o.fault.start === true,
      });
      pool.workers.push(w);
      ready.push(new Promise<void>((resolve, reject) => {
        let started = false;
        const timer = setTimeout(() => fail(`no answer in ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
        (timer as { unref?: () => void }).unref?.();
        pool.startTimers.push(timer);
        const fail = (why: string) => {
          clearTimeout(timer);
          const e = new Error(started ? `${name} crashed: ${why}` : `${name} failed to start: ${why}`);
          if (!started) reject(e);
          pool.fail(e);
        };
        w.onMessage((m) => {
          if (m.ready) { started = true; clearTimeout(timer); resolve(); }
          if (m.error) fail(m.error);
        });
        w.onError((e) => fail(e.name && e.name !== 'Error' ? `${e.name}: ${e.message}` : e.message || String(e)));
        w.onExit((code) => fail(`it exited (code ${code})`));
      }));
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      pool.dispose();
      throw e;
    }
    for (const w of pool.workers) w.unref();
    return pool;
  }

  private view(): Int32Array {
    return new Int32Array(this.o.memory.buffer); // the buffer object changes when the memory grows
  }

  /** Runs one command on all workers: i32 arguments at ARGS, f64 arguments at F64S. */
  async run(cmd: number, ints: readonly number[], floats: readonly number[] = []): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.running) throw new Error('wasm threads: a command is already running');
    const { ctrl, layout: L, threads } = this.o;
    const i32 = this.view();
    ints.forEach((v, i) => { i32[((ctrl + L.args) >> 2) + i] = v | 0; });
    new Float64Array(this.o.memory.buffer, ctrl + L.f64s, floats.length).set(floats);
    const done = (ctrl + L.done) >> 2;
    Atomics.store(i32, done, 0);
    Atomics.store(i32, (ctrl + L.cmd) >> 2, cmd);
    this.running = true;
    for (const w of this.workers) w.ref();
    try {
      Atomics.add(i32, (ctrl + L.gen) >> 2, 1);
      Atomics.notify(i32, (ctrl + L.gen) >> 2);
      for (;;) {
        if (this.failure) throw this.failure;
        const seen = Atomics.load(i32, done);
        if (seen >= threads) return;
        await this.waitFor(i32, done, seen);
      }
    } finally {
      this.running = false;
      if (!this.failure) for (const w of this.workers) w.unref();
    }
  }

  /** Resolves when i32[index] may have changed from `seen`, or a worker failed. */
  private waitFor(i32: Int32Array, index: number, seen: number): Promise<void> {
    const waitAsync = (Atomics as unknown as { waitAsync?: (a: Int32Array, i: number, v: number, t?: number) => { async: boolean; value: Promise<string> | string } }).waitAsync;
    return new Promise<void>((resolve) => {
      this.wakeHost = resolve;
      if (waitAsync) {
        const r = waitAsync(i32, index, seen);
        if (r.async) (r.value as Promise<string>).then(() => resolve());
        else resolve();
      } else {
        setTimeout(resolve, 1); // engines without Atomics.waitAsync poll
      }
    });
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    for (const t of this.startTimers) clearTimeout(t);
    const i32 = this.view();
    Atomics.store(i32, (this.o.ctrl + this.o.layout.abort) >> 2, 1);
    Atomics.notify(i32, (this.o.ctrl + this.o.layout.barGen) >> 2);
    this.wakeHost?.();
    for (const w of this.workers) w.terminate();
  }

  /** Ends the workers (CMD_EXIT, then terminate). */
  dispose(): void {
    for (const t of this.startTimers) clearTimeout(t);
    if (!this.failure) {
      this.failure = new Error('the wasm thread pool was disposed');
      const i32 = this.view();
      Atomics.store(i32, (this.o.ctrl + this.o.layout.cmd) >> 2, CMD_EXIT);
      Atomics.add(i32, (this.o.ctrl + this.o.layout.gen) >> 2, 1);
      Atomics.notify(i32, (this.o.ctrl + this.o.layout.gen) >> 2);
    }
    for (const w of this.workers) w.terminate();
  }
}
