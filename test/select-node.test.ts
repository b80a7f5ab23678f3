// `backend: auto` in Node against Dawn's real adapter (Mesa's llvmpipe on a
// machine without a GPU): a software adapter gives wasm without a device
// being requested, `webgpu` by name still runs on it, and `tessera train`
// on auto says wasm and why, then exits promptly after its last line.
//
// No adapter: under CI=true the adapter tests fail; otherwise they are
// skipped loudly (the exit check runs either way).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { createNodeBackend } from '../src/node-backends.js';
import { requestNodeGpu } from '../src/node/webgpu.js';
import { isSoftwareAdapter } from '../src/runtime/select.js';
import { CLI_ARGS, CLI_ENV } from './support/cli.js';

const ci = process.env.CI === 'true' || process.env.CI === '1';
const r = await requestNodeGpu();
/** Null without an adapter; else whether Dawn's adapter names a software rasteriser. */
const software = r.gpu ? /llvmpipe|lavapipe|swiftshader/i.test(`${r.adapterInfo.device} ${r.adapterInfo.description}`) : null;

if (!r.gpu) {
  console.error(`\n${'!'.repeat(78)}\n!! select-node: NO WEBGPU ADAPTER — ${r.reason}\n${'!'.repeat(78)}\n`);
  if (ci) test('a WebGPU adapter is available (required under CI=true)', () => { throw new Error(`no WebGPU adapter: ${r.reason}`); });
  else test.skip('auto against a real adapter (no adapter; CI=true makes this a failure)', () => {});
} else {
  const gpu = r;
  // Every device is requested through this prototype method: count the calls.
  const proto = Object.getPrototypeOf(gpu.adapter) as GPUAdapter;
  const requestDevice = proto.requestDevice;
  let devices = 0;
  proto.requestDevice = function (this: GPUAdapter, ...args: Parameters<GPUAdapter['requestDevice']>) {
    devices++;
    return requestDevice.apply(this, args);
  };

  test(`Dawn's adapter is judged ${software ? 'software' : 'a hardware GPU'} (${gpu.adapterInfo.device || gpu.adapterInfo.description})`, () => {
    const why = isSoftwareAdapter(gpu.adapter);
    if (software) assert.match(why ?? '', /^webgpu adapter is a software rasteriser \(.*(llvmpipe|lavapipe|swiftshader)/i);
    else assert.is(why, null);
  });

  test(`auto ${software ? 'takes wasm without requesting a device' : 'takes the GPU'}`, async () => {
    const before = devices;
    const { backend, reason } = await createNodeBackend('auto');
    try {
      if (software) {
        assert.is(backend.name, 'wasm');
        assert.match(reason, /^auto: webgpu adapter is a software rasteriser \(.+\), using wasm \(SIMD128/);
        assert.is(devices, before, 'no GPU device was requested');
      } else {
        assert.is(backend.name, 'webgpu');
        assert.is(devices, before + 1);
      }
    } finally {
      backend.dispose();
    }
  });

  test('webgpu by name still uses the adapter', async () => {
    const before = devices;
    const { backend, reason } = await createNodeBackend('webgpu');
    try {
      assert.is(backend.name, 'webgpu');
      assert.is(reason, 'requested webgpu');
      const name = gpu.adapterInfo.device || gpu.adapterInfo.description;
      assert.ok(backend.description.includes(name), `${backend.description} names ${name}`);
      assert.is(devices, before + 1);
    } finally {
      backend.dispose();
    }
  });

  test.after(() => { proto.requestDevice = requestDevice; });
}

interface TimedRun { code: number | null; output: string; totalMs: number; afterLastOutputMs: number }

/** `tessera ...args`, timing the exit against the last byte of output; killed (and failed) after `limitMs`. */
function timedTessera(limitMs: number, ...args: string[]): Promise<TimedRun> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let last = t0;
    let output = '';
    const child = spawn(process.execPath, [...CLI_ARGS, ...args], { env: CLI_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (d: Buffer) => { output += d.toString(); last = Date.now(); };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const killer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('close', (code) => {
      clearTimeout(killer);
      const end = Date.now();
      resolve({ code, output, totalMs: end - t0, afterLastOutputMs: end - last });
    });
  });
}

test('tessera train on auto says which backend and why, and exits promptly after its last line', async () => {
  const run = await timedTessera(120_000, 'train', 'models/mnist.yaml', '--limit', '500', '--epochs', '1');
  assert.is(run.code, 0, `exit code ${run.code} after ${run.totalMs} ms:\n${run.output}`);
  const line = /^backend: .*$/m.exec(run.output)?.[0] ?? '';
  if (software) assert.match(line, /^backend: auto: webgpu adapter is a software rasteriser \(.+\), using wasm \(SIMD128/);
  else if (software === null) assert.match(line, /^backend: auto: no WebGPU \(.+\), using wasm \(SIMD128/);
  else assert.match(line, /^backend: auto: using webgpu \(/);
  if (software !== false) assert.match(run.output, /^time .*wasm\)$/m);
  // Training done, the process should be gone at once; an open Dawn device
  // or instance that holds the event loop would show here (or hang until
  // the kill above). Generous: a loaded machine can stall a process briefly.
  assert.ok(run.afterLastOutputMs < 5000, `exited ${run.afterLastOutputMs} ms after its last output`);
});

test.run();
