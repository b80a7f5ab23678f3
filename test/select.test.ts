// Backend selection: explicit names, 'auto' with its fallbacks and reasons,
// and clear errors for a backend that cannot run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Backend } from '../src/runtime/backend.js';
import { JsBackend } from '../src/runtime/backends/js.js';
import { BACKEND_FACTORIES, BackendUnavailableError, createBackend, registerBackendFactory } from '../src/runtime/select.js';

/** A stand-in backend: a js backend under another name. */
function fake(name: 'wasm' | 'webgpu', description: string): Backend {
  const b = new JsBackend();
  return Object.assign(b, { name, description }) as unknown as Backend;
}

const reset = () => {
  BACKEND_FACTORIES.delete('wasm');
  BACKEND_FACTORIES.delete('webgpu');
};

test('js by name; auto with nothing else registered takes js and says why', async () => {
  reset();
  const a = await createBackend('js');
  assert.is(a.backend.name, 'js');
  assert.is(a.reason, 'requested js');
  const b = await createBackend('auto', { gpu: null, gpuReason: 'no adapter here' });
  assert.is(b.backend.name, 'js');
  assert.is(b.reason, `auto: no WebGPU (the webgpu backend is not part of this build), no wasm (the wasm backend is not part of this build), using ${b.backend.description}`);
});

test('a requested backend that is missing or fails is a BackendUnavailableError with the reason', async () => {
  reset();
  await createBackend('wasm').then(
    () => assert.unreachable(),
    (e) => {
      assert.instance(e, BackendUnavailableError);
      assert.is(e.message, "backend 'wasm' is not available: the wasm backend is not part of this build");
    },
  );
  registerBackendFactory('webgpu', async () => fake('webgpu', 'webgpu (fake)'));
  await createBackend('webgpu', { gpu: null, gpuReason: 'Dawn found no adapter' }).then(
    () => assert.unreachable(),
    (e) => assert.is(e.message, "backend 'webgpu' is not available: Dawn found no adapter"),
  );
  registerBackendFactory('wasm', async () => { throw new Error('WebAssembly SIMD is not supported\nmore detail'); });
  await createBackend('wasm').then(
    () => assert.unreachable(),
    (e) => assert.is(e.message, "backend 'wasm' is not available: WebAssembly SIMD is not supported"),
  );
  await createBackend('cuda' as 'js').then(
    () => assert.unreachable(),
    (e) => assert.match(e.message, 'unknown backend'),
  );
});

test('auto prefers webgpu, then wasm, then js, falling back past failures', async () => {
  reset();
  const gpu = {} as GPU;
  registerBackendFactory('wasm', async () => fake('wasm', 'wasm (SIMD)'));
  let r = await createBackend('auto', { gpu: null, gpuReason: 'no adapter' });
  assert.is(r.backend.name, 'wasm');
  assert.is(r.reason, 'auto: no WebGPU (the webgpu backend is not part of this build), using wasm (SIMD)');

  registerBackendFactory('webgpu', async () => fake('webgpu', 'webgpu (llvmpipe)'));
  r = await createBackend('auto', { gpu });
  assert.is(r.backend.name, 'webgpu');
  assert.is(r.reason, 'auto: using webgpu (llvmpipe)');

  registerBackendFactory('webgpu', async () => { throw new Error('requestAdapter returned null'); });
  r = await createBackend('auto', { gpu });
  assert.is(r.reason, 'auto: no WebGPU (requestAdapter returned null), using wasm (SIMD)');

  r = await createBackend('auto', { gpu: null, wasmAvailable: false });
  assert.is(r.backend.name, 'js');
  assert.match(r.reason, 'no wasm (WebAssembly SIMD is not available here)');
  reset();
});

test.run();
