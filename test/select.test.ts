// Backend selection: explicit names, 'auto' with its fallbacks and reasons,
// and clear errors for a backend that cannot run; software adapters judged
// from faked adapter info (test/select-node.test.ts uses Dawn's real one).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Backend } from '../src/runtime/backend.js';
import { JsBackend } from '../src/runtime/backends/js.js';
import { describeBackendChoice } from '../src/runtime/model.js';
import { BACKEND_FACTORIES, BackendUnavailableError, createBackend, isSoftwareAdapter, registerBackendFactory, type AdapterFacts } from '../src/runtime/select.js';

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

// Adapter info as real implementations report it (llvmpipe and SwiftShader
// copied from Dawn 0.6.2 on Mesa 22.3.6 and Debian's Chromium 150).
const LLVMPIPE_GL = { info: { vendor: '', architecture: '', device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'OpenGL version OpenGL ES 3.2 Mesa 22.3.6', isFallbackAdapter: false } };
const LAVAPIPE = { info: { vendor: 'mesa', architecture: '', device: 'llvmpipe (LLVM 15.0.6, 256 bits)', description: 'Mesa 22.3.6 (LLVM 15.0.6)', isFallbackAdapter: false } };
const SWIFTSHADER = { info: { vendor: 'google', architecture: 'swiftshader', device: '', description: '', isFallbackAdapter: true } };
const WARP = { info: { vendor: 'microsoft', architecture: '', device: '', description: 'Microsoft Basic Render Driver' } };
const NVIDIA = { info: { vendor: 'nvidia', architecture: 'ampere', device: '', description: 'NVIDIA GeForce RTX 3080', isFallbackAdapter: false } };
const APPLE = { info: { vendor: 'apple', architecture: 'metal-3', device: '', description: '', isFallbackAdapter: false } };
const INTEL = { info: { vendor: 'intel', architecture: 'gen-12lp', device: 'Intel(R) UHD Graphics 770', description: 'Mesa Intel(R) UHD Graphics 770 (ADL-S GT1)', adapterType: 'integrated gpu' } };

test('isSoftwareAdapter: software rasterisers by name, CPU device types and fallback adapters; real GPUs are not', () => {
  assert.is(isSoftwareAdapter(LLVMPIPE_GL), 'webgpu adapter is a software rasteriser (llvmpipe-llvm-15-0-6-256-bits-; OpenGL version OpenGL ES 3.2 Mesa 22.3.6)');
  assert.is(isSoftwareAdapter(LAVAPIPE), 'webgpu adapter is a software rasteriser (llvmpipe (LLVM 15.0.6, 256 bits); mesa; Mesa 22.3.6 (LLVM 15.0.6))');
  assert.is(isSoftwareAdapter({ info: { vendor: 'mesa', device: 'lavapipe' } }), 'webgpu adapter is a software rasteriser (lavapipe; mesa)');
  // The name comes first: SwiftShader is also flagged as a fallback adapter.
  assert.is(isSoftwareAdapter(SWIFTSHADER), 'webgpu adapter is a software rasteriser (google; swiftshader)');
  assert.is(isSoftwareAdapter(WARP), 'webgpu adapter is a software rasteriser (microsoft; Microsoft Basic Render Driver)');
  // An adapter that names nothing known but says it is a CPU, or a fallback.
  assert.is(isSoftwareAdapter({ info: { vendor: 'acme', description: 'Acme Render', adapterType: 'cpu' } }), 'webgpu adapter is a CPU device (acme; Acme Render)');
  assert.is(isSoftwareAdapter({ info: { deviceType: 'Cpu' } }), 'webgpu adapter is a CPU device (no adapter info)');
  assert.is(isSoftwareAdapter({ info: { vendor: 'acme', isFallbackAdapter: true } }), 'webgpu adapter is a fallback (software) adapter (acme)');
  assert.is(isSoftwareAdapter({ info: { vendor: 'acme' }, isFallbackAdapter: true }), 'webgpu adapter is a fallback (software) adapter (acme)', "the older adapter.isFallbackAdapter counts too");
  for (const hw of [NVIDIA, APPLE, INTEL, { info: { vendor: 'amd', architecture: 'rdna-3', adapterType: 'discrete gpu' } }, { info: {} }, {}]) {
    assert.is(isSoftwareAdapter(hw), null, JSON.stringify(hw));
  }
  assert.is(isSoftwareAdapter(null), null);
  assert.is(isSoftwareAdapter(undefined), null);
});

/** Registers a fake webgpu factory that counts its calls (each would request a device). */
function countingWebgpu(): { calls: number } {
  const seen = { calls: 0 };
  registerBackendFactory('webgpu', async () => { seen.calls++; return fake('webgpu', 'webgpu (fake gpu)'); });
  return seen;
}

test('auto ranks a software adapter below wasm without making a webgpu backend; a real GPU still wins', async () => {
  reset();
  const gpu = {} as GPU;
  registerBackendFactory('wasm', async () => fake('wasm', 'wasm (SIMD128; fake)'));
  const seen = countingWebgpu();
  let r = await createBackend('auto', { gpu, adapter: LLVMPIPE_GL });
  assert.is(r.backend.name, 'wasm');
  assert.is(r.reason, 'auto: webgpu adapter is a software rasteriser (llvmpipe-llvm-15-0-6-256-bits-; OpenGL version OpenGL ES 3.2 Mesa 22.3.6), using wasm (SIMD128; fake)');
  r = await createBackend('auto', { gpu, adapter: { info: { vendor: 'acme', isFallbackAdapter: true } } });
  assert.is(r.reason, 'auto: webgpu adapter is a fallback (software) adapter (acme), using wasm (SIMD128; fake)');
  r = await createBackend('auto', { gpu, adapter: { info: { vendor: 'acme', adapterType: 'cpu' } } });
  assert.is(r.reason, 'auto: webgpu adapter is a CPU device (acme), using wasm (SIMD128; fake)');
  assert.is(seen.calls, 0, 'no webgpu backend (and so no device) was made for a software adapter');

  for (const hw of [NVIDIA, APPLE, INTEL]) {
    r = await createBackend('auto', { gpu, adapter: hw });
    assert.is(r.backend.name, 'webgpu', JSON.stringify(hw));
    assert.is(r.reason, 'auto: using webgpu (fake gpu)');
  }
  assert.is(seen.calls, 3);
  reset();
});

test('a software adapter is still used when webgpu is asked for by name', async () => {
  reset();
  registerBackendFactory('wasm', async () => fake('wasm', 'wasm (fake)'));
  const seen = countingWebgpu();
  const r = await createBackend('webgpu', { gpu: {} as GPU, adapter: LLVMPIPE_GL });
  assert.is(r.backend.name, 'webgpu');
  assert.is(r.reason, 'requested webgpu');
  assert.is(seen.calls, 1);
  reset();
});

test('a software adapter and no wasm: auto takes js, naming both reasons', async () => {
  reset();
  countingWebgpu();
  registerBackendFactory('wasm', async () => fake('wasm', 'wasm (fake)'));
  const r = await createBackend('auto', { gpu: {} as GPU, adapter: SWIFTSHADER, wasmAvailable: false });
  assert.is(r.backend.name, 'js');
  assert.is(r.reason, `auto: webgpu adapter is a software rasteriser (google; swiftshader), no wasm (WebAssembly SIMD is not available here), using ${r.backend.description}`);
  reset();
});

/** A navigator.gpu stand-in whose adapter reports `facts`; counts requestAdapter and requestDevice calls. */
function fakeGpu(facts: AdapterFacts | 'throws'): GPU & { adapters: number; devices: number } {
  const g = {
    adapters: 0,
    devices: 0,
    async requestAdapter() {
      g.adapters++;
      if (facts === 'throws') throw new Error('adapter request failed');
      return { ...facts, requestDevice: async () => { g.devices++; throw new Error('not in this test'); } };
    },
  };
  return g as unknown as GPU & { adapters: number; devices: number };
}

test('without an adapter given (a page), auto requests one to judge, before any device', async () => {
  reset();
  registerBackendFactory('wasm', async () => fake('wasm', 'wasm (fake)'));
  const seen = countingWebgpu();
  const swift = fakeGpu(SWIFTSHADER);
  let r = await createBackend('auto', { gpu: swift });
  assert.is(r.backend.name, 'wasm');
  assert.is(r.reason, 'auto: webgpu adapter is a software rasteriser (google; swiftshader), using wasm (fake)');
  assert.equal([swift.adapters, swift.devices, seen.calls], [1, 0, 0]);

  r = await createBackend('auto', { gpu: fakeGpu(NVIDIA) });
  assert.is(r.backend.name, 'webgpu');
  // An adapter that cannot be judged is left to the factory, which reports its own failure.
  r = await createBackend('auto', { gpu: fakeGpu('throws') });
  assert.is(r.backend.name, 'webgpu');
  assert.is(seen.calls, 2);

  // The page's status line (model.ts) keeps the reason without the "auto:" framing.
  const choice = await describeBackendChoice('auto', { gpu: fakeGpu(SWIFTSHADER) });
  assert.equal([choice.name, choice.reason], ['wasm', 'webgpu adapter is a software rasteriser (google; swiftshader)']);
  reset();
});

test.run();
