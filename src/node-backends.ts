// Node-side backend creation for the CLI and Node users: registers the wasm
// and webgpu backends and hands Dawn's GPU (src/node/webgpu.ts) to
// createBackend. Dawn is only loaded when the request can use WebGPU
// ('auto' or 'webgpu'), so `--backend wasm` starts no GPU driver.

import { createBackend, type BackendRequest } from './runtime/select.js';
import type { Backend } from './runtime/backend.js';
import { registerBuiltinBackends } from './runtime/backends/register.js';
import type { WasmBackendOptions } from './runtime/backends/wasm.js';
import type { WebGpuBackendOptions } from './runtime/backends/webgpu.js';
import { requestNodeGpu } from './node/webgpu.js';

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
  registerBuiltinBackends({ ...webgpu, adapter: found.adapter, backendLabel: found.backend, featureLevel: found.featureLevel }, wasm);
  return createBackend(name, { gpu: found.gpu });
}
