// Registers the wasm and webgpu backends with backend selection. Both the
// browser entry and the Node CLI import this, so `backend: auto` means the
// same thing everywhere: WebGPU when an adapter exists, else wasm, else js.
// (Node passes Dawn's GPU and adapter; the browser passes navigator.gpu.)
import { registerBackendFactory } from '../select.js';
import { WasmBackend, type WasmBackendOptions } from './wasm.js';
import { WebGpuBackend, type WebGpuBackendOptions } from './webgpu.js';

export function registerBuiltinBackends(webgpuOptions: WebGpuBackendOptions = {}, wasmOptions: WasmBackendOptions = {}): void {
  registerBackendFactory('wasm', () => WasmBackend.create(wasmOptions));
  registerBackendFactory('webgpu', (env) => WebGpuBackend.create(env.gpu!, webgpuOptions));
}
