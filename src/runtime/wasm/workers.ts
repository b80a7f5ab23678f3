// Starting the workers of the threaded wasm backend, in a way that both
// Node (worker_threads, registered by src/node/wasm-workers.ts) and browsers
// (Web Workers, below) provide. A worker is given the compiled kernels, the
// shared memory and its index; it instantiates the module against that
// memory, says it is ready, and enters the module's worker loop
// (kernels/as/threads.ts), from which it only returns on CMD_EXIT.
// Browser-safe: no Node imports here.

/** What a worker is started with (structured-cloned: the Module and the shared Memory are shared, not copied). */
export interface WorkerData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctrl: number;
  tid: number;
  threads: number;
  scratch: number;
  /** >= 0: trap at this global step (tests of a crashing worker). */
  trapStep: number;
  /** true: throw before instantiating (tests of a worker that fails to start). */
  failStart: boolean;
}

export interface WorkerHandle {
  onMessage(cb: (message: { ready?: boolean; error?: string }) => void): void;
  onError(cb: (error: Error) => void): void;
  onExit(cb: (code: number) => void): void;
  /** Keep the process (Node) alive while the worker works; unref when idle. */
  ref(): void;
  unref(): void;
  terminate(): void;
}

export interface WorkerSpawner {
  /** The default thread count here, and why. */
  cores(): { count: number; reason: string };
  /** Why threads cannot run here, or null when they can. */
  unavailable(): string | null;
  spawn(data: WorkerData): WorkerHandle;
}

/** The worker's program, shared by Node and browsers; `post` sends to the host. */
export const WORKER_BODY = `
function startTesseraWorker(data, post) {
  if (data.failStart) throw new Error('injected start failure (TESSERA_TEST_WORKER_FAIL_START)');
  const env = { memory: data.memory, abort: () => { throw new Error('wasm kernels aborted'); } };
  for (const imp of WebAssembly.Module.imports(data.module)) {
    if (imp.module === 'env' && imp.kind === 'function' && !(imp.name in env)) {
      env[imp.name] = () => { throw new Error('a custom kernel was called in a wasm thread'); };
    }
  }
  const instance = new WebAssembly.Instance(data.module, { env });
  if (instance.exports._initialize) instance.exports._initialize();
  post({ ready: true });
  instance.exports.workerLoop(data.ctrl, data.tid, data.threads, data.scratch, data.trapStep);
}
`;

/** Web Workers from a Blob URL; threads need a cross-origin isolated page (SharedArrayBuffer). */
function browserSpawner(): WorkerSpawner {
  const g = globalThis as unknown as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
  const unavailable = () => (g.crossOriginIsolated ? null : 'the page is not cross-origin isolated (it needs the COOP/COEP headers), so it has no shared memory');
  let url: string | null = null;
  return {
    unavailable,
    cores() {
      const why = unavailable();
      if (why) return { count: 1, reason: why };
      const n = Math.max(1, g.navigator?.hardwareConcurrency ?? 1);
      return { count: n, reason: `navigator.hardwareConcurrency is ${n}` };
    },
    spawn(data) {
      url ??= URL.createObjectURL(new Blob([`${WORKER_BODY}
self.onmessage = (e) => startTesseraWorker(e.data, (m) => self.postMessage(m));`], { type: 'text/javascript' }));
      const w = new Worker(url, { name: `tessera-wasm-${data.tid}` });
      w.postMessage(data);
      return {
        onMessage: (cb) => w.addEventListener('message', (e) => cb(e.data)),
        onError: (cb) => w.addEventListener('error', (e) => { e.preventDefault(); cb(new Error(e.message || 'worker error')); }),
        onExit: () => {},
        ref: () => {},
        unref: () => {},
        terminate: () => w.terminate(),
      };
    },
  };
}

let registered: WorkerSpawner | null = typeof Worker !== 'undefined' && typeof Blob !== 'undefined' ? browserSpawner() : null;

/** Node's entry points register worker_threads here (src/node/wasm-workers.ts). */
export function setWorkerSpawner(spawner: WorkerSpawner | null): void {
  registered = spawner;
}

export function workerSpawner(): WorkerSpawner | null {
  return registered;
}
