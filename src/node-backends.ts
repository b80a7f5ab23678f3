// Node-side backend creation for the CLI and Node users: registers the wasm
// and webgpu backends and hands Dawn's GPU and adapter (src/node/webgpu.ts)
// to createBackend. Dawn is only loaded when the request can use WebGPU
// ('auto' or 'webgpu'), so `--backend wasm` starts no GPU driver. When
// 'auto' judges the adapter software (select.ts) it takes wasm without
// requesting a device, and Dawn's objects are let go so that an open GPU
// instance neither competes with the wasm kernels nor keeps the process alive.

import { createBackend, type BackendRequest } from './runtime/select.js';
import type { Backend } from './runtime/backend.js';
import { registerBuiltinBackends } from './runtime/backends/register.js';
import type { WasmBackendOptions } from './runtime/backends/wasm.js';
import type { WebGpuBackendOptions } from './runtime/backends/webgpu.js';
import { releaseNodeGpu, requestNodeGpu } from './node/webgpu.js';
import './node/wasm-workers.js'; // worker_threads for the threaded wasm backend

/**
 * `webgpu`, `wasm`: extra options for those backends (e.g. customKernels from
 * a model file's `kernels:`: WGSL for webgpu, AssemblyScript for wasm).
 */
export async function createNodeBackend(name: BackendRequest, webgpu: Partial<WebGpuBackendOptions> = {}, wasm: WasmBackendOptions = {}): Promise<{ backend: Backend; reason: string }> {
  if (name === 'js' || name === 'wasm') {
    registerBuiltinBackends({}, wasm);
    return createBackend(name, { gpu: null, gpuReason: 'not requested' });
  }
  const found = await requestNodeGpu();
  if (!found.gpu) {
    registerBuiltinBackends({}, wasm);
    return createBackend(name, { gpu: null, gpuReason: found.reason });
  }
  const shardBytes = shardBytesFromEnv();
  registerBuiltinBackends({ ...(shardBytes ? { shardBytes } : {}), ...webgpu, adapter: found.adapter, backendLabel: found.backend, featureLevel: found.featureLevel }, wasm);
  let picked: Backend | undefined;
  try {
    const chosen = await createBackend(name, { gpu: found.gpu, adapter: found.adapter });
    picked = chosen.backend;
    return chosen;
  } finally {
    if (picked?.name !== 'webgpu') {
      // The registered webgpu factory holds the adapter: replace it with one
      // that holds nothing of Dawn's, then let the GPU go.
      registerBuiltinBackends({}, wasm);
      releaseNodeGpu(found.gpu);
    }
  }
}

/**
 * TESSERA_WEBGPU_SHARD_BYTES: the most bytes of a dataset one webgpu buffer
 * holds (WebGpuBackendOptions.shardBytes), to try sharding on a small set;
 * unset: the device's limits.
 */
function shardBytesFromEnv(): number | undefined {
  const raw = process.env.TESSERA_WEBGPU_SHARD_BYTES?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 4) throw Object.assign(new Error(`TESSERA_WEBGPU_SHARD_BYTES must be a whole number of bytes (at least 4), got '${raw}'`), { isUserError: true });
  return n;
}
