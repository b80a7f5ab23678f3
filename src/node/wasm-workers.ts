// Node's workers for the threaded wasm backend: worker_threads running the
// shared worker program (src/runtime/wasm/workers.ts) as an eval'd script,
// so that no worker file has to be found on disk (the same code runs from
// src/ under tsx and from dist/). Importing this module registers it.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { setWorkerSpawner, WORKER_BODY, type WorkerSpawner } from '../runtime/wasm/workers.js';

export const nodeWorkerSpawner: WorkerSpawner = {
  unavailable: () => null,
  cores() {
    const n = availableParallelism();
    return { count: n, reason: `${n} available cores` };
  },
  spawn(data) {
    const source = `${WORKER_BODY}
const { parentPort, workerData } = require('node:worker_threads');
startTesseraWorker(workerData, (m) => parentPort.postMessage(m));`;
    const w = new Worker(source, { eval: true, workerData: data, name: `tessera-wasm-${data.tid}` });
    return {
      onMessage: (cb) => w.on('message', cb),
      onError: (cb) => w.on('error', cb),
      onExit: (cb) => w.on('exit', cb),
      ref: () => w.ref(),
      unref: () => w.unref(),
      terminate: () => { void w.terminate(); },
    };
  },
};

setWorkerSpawner(nodeWorkerSpawner);
