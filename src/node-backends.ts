// Node-side backend creation for the CLI: the one place that will hand
// Dawn's GPU (src/node/webgpu.ts, requestNodeGpu) and the wasm/webgpu
// factories to createBackend. For now it passes no GPU, so 'auto' resolves
// to the best registered backend without WebGPU (js until wasm registers).

import { createBackend, type BackendRequest } from './runtime/select.js';
import type { Backend } from './runtime/backend.js';

export async function createNodeBackend(name: BackendRequest): Promise<{ backend: Backend; reason: string }> {
  return createBackend(name, { gpu: null, gpuReason: 'WebGPU through Dawn is not wired into the CLI yet' });
}
