// Test hooks of the `tessera` command, switched on by environment variables
// named TESSERA_TEST_*; with none set, nothing here does anything. They
// exist so that tests can make rare failures happen on purpose in a real
// run of the command.
//
//   TESSERA_TEST_LOSE_DEVICE_AT_CHUNK=N   on the webgpu backend, destroy the
//       device right after the first command buffer of the N-th trainSteps
//       call is submitted: the device is lost in the middle of a chunk of
//       steps (test/webgpu-failures.test.ts).
//   TESSERA_TEST_WORKER_CRASH=W:S   on the threaded wasm backend, worker W
//       (0-based) traps at global step S (test/wasm-threads-cli.test.ts).
//   TESSERA_TEST_WORKER_FAIL_START=W   worker W throws before it starts.

import type { Backend } from '../runtime/backend.js';
import { WebGpuBackend } from '../runtime/backends/webgpu.js';

/** The threaded wasm backend's injected fault, if a TESSERA_TEST_WORKER_* variable asks for one. */
export function workerFaultHook(): { worker: number; step?: number; start?: boolean } | undefined {
  const crash = process.env.TESSERA_TEST_WORKER_CRASH;
  if (crash) {
    const [w, step] = crash.split(':').map(Number);
    return { worker: w!, step: step! };
  }
  const start = process.env.TESSERA_TEST_WORKER_FAIL_START;
  return start ? { worker: Number(start), start: true } : undefined;
}

export function applyTestHooks(backend: Backend): void {
  const raw = process.env.TESSERA_TEST_LOSE_DEVICE_AT_CHUNK;
  if (raw === undefined || !(backend instanceof WebGpuBackend)) return;
  const chunk = Number(raw);
  const device = backend.device;
  const trainSteps = backend.trainSteps.bind(backend);
  const submit = device.queue.submit.bind(device.queue);
  let calls = 0;
  let armed = false;
  device.queue.submit = (buffers: Iterable<GPUCommandBuffer>) => {
    submit(buffers);
    if (armed) {
      armed = false;
      device.destroy();
    }
  };
  backend.trainSteps = (firstBatch, steps, globalStep) => {
    if (++calls === chunk) armed = true;
    return trainSteps(firstBatch, steps, globalStep);
  };
}
