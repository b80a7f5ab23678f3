// The conformance suite: every registered op with a bench spec × every
// kernel backend (wasm plain SIMD, wasm relaxed SIMD, webgpu) against the
// op's TypeScript reference, on random non-zero inputs at awkward shapes
// (dims 1, 3, 7, 33, 129; batch 1), through the same code paths training
// uses (the op's wasm plan record through the generated dispatch; its WebGPU
// dispatches in the backend's GpuEnv). A new op is picked up with no edit.
//
// The js backend is the reference itself, so it has no row here; the
// reference is checked against float64 formulas (test/reference.test.ts,
// test/activations.test.ts) and by finite differences (test/op-gradients).
//
// Every output buffer is laid out as [n values][GUARD floats of garbage],
// and its first n values start as garbage too (unless the op updates it in
// place): a kernel must overwrite its output, and must leave everything past
// it as it was. Ops whose kernels own whole vec4s (Adam's arenas) get zeros
// up to the next multiple of 4 first, which they may rewrite with zeros.
//
// Tolerance: max |got − want| / max |want| per output ≤ 1e-4 (summation
// order and FMA contraction stay near 1e-6 at these sizes), unless the op's
// instance states its own. The relaxed-SIMD build needs
// --experimental-wasm-relaxed-simd on Node 20: it runs in a child Node, and
// under CI=true a Node that rejects the flag is a failure, not a skip.
//
// TESSERA_CONFORMANCE_OPS=a,b (op kinds) checks only those ops, for a quick
// run while writing one; the full suite (npm test) checks every op.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareOutputs } from '../src/bench/check.js';
import { instanceBuffers, outputsOf, randomFloats, runReference, type OpCase, type OpData } from '../src/bench/ops.js';
import type { OpRunner } from '../src/bench/runner.js';
import { WasmOpRunner } from '../src/bench/wasm.js';
import { WebGpuOpRunner } from '../src/bench/webgpu.js';
import { requestNodeGpu } from '../src/node/webgpu.js';
import { benchableOps } from '../src/ops/index.js';
import type { OpDef, OpInstance, OpRecordBase } from '../src/ops/types.js';
import { relaxedSimdSupported } from '../src/runtime/wasm/module.js';
import { beforeOrFail } from './support/setup.js';

const CI = process.env.CI === 'true' || process.env.CI === '1';
const GUARD = 16;
/** --shape triples: each op takes the dims it needs (its bench.fromMKN). */
const SHAPES: [number, number, number][] = [[1, 1, 1], [1, 3, 7], [7, 33, 3], [33, 7, 129], [3, 129, 33]];
/** WebGPU pipelines are compiled per shape on llvmpipe (slow): a subset still covers 1, 7, 33 and 129. */
const GPU_SHAPES: [number, number, number][] = [[1, 3, 7], [33, 7, 129]];
const ONLY = process.env.TESSERA_CONFORMANCE_ONLY; // 'wasm-relaxed' in the child

const align4 = (n: number) => Math.ceil(n / 4) * 4;

/** The op's instance with guarded, garbage-filled output buffers, and what the reference makes of it. */
function guardedCase(def: OpDef, dims: readonly number[], seed: number): { c: OpCase; data: OpData; real: Record<string, number> } {
  const random = randomFloats(seed, 7000);
  const base = def.bench!.instance(dims, random);
  const inputs = { ...base.inputs };
  const outputs: Record<string, number> = {};
  for (const [name, n] of Object.entries(base.outputs)) {
    // Zeros up to a whole vec4 only where the op owns them (Adam's vec4 arenas); garbage everywhere else.
    const pad = base.wholeVec4s ? align4(n) : n;
    const buf = new Float32Array(pad + GUARD);
    buf.set(inputs[name] ?? random(n, 7)); // in place (Adam): the real input; otherwise garbage to overwrite
    buf.set(random(GUARD, 7), pad);
    inputs[name] = buf;
    outputs[name] = buf.length;
  }
  const instance: OpInstance<OpRecordBase> = { ...base, inputs, outputs };
  const buffers = instanceBuffers(instance);
  const scalars = runReference(def, instance, buffers);
  const data: OpData = {
    instance, inputs,
    ...(instance.labels ? { labels: instance.labels } : {}),
    expected: outputsOf(instance, (name, n) => buffers[name]!.slice(0, n)),
    ...(scalars ? { scalars } : {}),
    ...(base.tolerance !== undefined ? { tolerance: base.tolerance } : {}),
  };
  return { c: { ...def.bench!.work(dims), op: def.kind, dims: [...dims] }, data, real: base.outputs };
}

/** Checks one op at one shape on a runner: values within tolerance, guard regions untouched. */
async function conform(runner: OpRunner, def: OpDef, dims: readonly number[]): Promise<void> {
  const { c, data, real } = guardedCase(def, dims, 1000 + dims.reduce((a, d, i) => a + d * (7 + 6 * i), 0));
  const kernel = await runner.prepare(c, data);
  try {
    const got = await kernel.check();
    for (const [name, n] of Object.entries(data.instance.outputs)) {
      const want = data.expected[name]!, have = got.arrays[name];
      assert.ok(have && have.length >= n, `${def.kind} ${c.dims.join('×')}: output ${name} missing`);
      // Past the output: the zero padding must stay zero (a vec4 kernel may rewrite it, but only with zeros) and the guard untouched.
      for (let i = real[name]!; i < n; i++) {
        if (!Object.is(have![i], want[i])) assert.unreachable(`${runner.backend} ${def.kind} ${c.dims.join('×')}: wrote past the end of ${name} (index ${i} of ${real[name]}: ${have![i]} instead of ${want[i]})`);
      }
    }
    const result = compareOutputs(got, data);
    assert.ok(result.ok, `${runner.description}: ${def.kind} at ${c.dims.join('×')}: ${result.message}`);
  } finally {
    kernel.dispose();
  }
}

const only = process.env.TESSERA_CONFORMANCE_OPS?.split(',').map((k) => k.trim()).filter(Boolean);
const ops = benchableOps().filter((d) => !only || only.includes(d.kind));

test('the registry has benchable ops', () => {
  assert.ok(ops.length >= (only ? only.length : 8), `only ${ops.length} benchable ops`);
});

/** The dims an op is checked at: its own awkward cases where it states them, else the suite's triples. */
function dimsOf(def: OpDef, shapes: [number, number, number][], gpu: boolean): (readonly number[])[] {
  const own = def.bench!.cases;
  if (!own) return shapes.map((s) => def.bench!.fromMKN(s));
  return gpu ? own.slice(0, 3) : [...own]; // pipelines are compiled per shape on llvmpipe
}

function suite(label: string, runner: () => OpRunner, shapes: [number, number, number][]): void {
  for (const def of ops) {
    const all = dimsOf(def, shapes, label === 'webgpu');
    test(`[${label}] ${def.kind} matches the reference at ${all.map((d) => d.join('×')).join(', ')}`, async () => {
      for (const dims of all) await conform(runner(), def, dims);
    });
  }
}

let simd: WasmOpRunner, relaxed: WasmOpRunner;
if (!ONLY || ONLY === 'wasm-simd') {
  beforeOrFail(test, 'wasm runner (plain SIMD)', async () => { simd = await WasmOpRunner.create(false); });
  suite('wasm simd', () => simd, SHAPES);
}

if (ONLY === 'wasm-relaxed' || (!ONLY && relaxedSimdSupported())) {
  beforeOrFail(test, 'wasm runner (relaxed SIMD)', async () => { relaxed = await WasmOpRunner.create(true); });
  suite('wasm relaxed', () => relaxed, SHAPES);
} else if (!ONLY) {
  test('[wasm relaxed] every op conforms (child node --experimental-wasm-relaxed-simd)', () => {
    const res = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, TESSERA_CONFORMANCE_ONLY: 'wasm-relaxed' }, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024,
    });
    const out = `${res.stdout}\n${res.stderr}`;
    if (/bad option|unknown option|not allowed/i.test(res.stderr) && !/Total:/.test(res.stdout)) {
      const why = `this Node rejects --experimental-wasm-relaxed-simd, so the relaxed-SIMD build was not tested: ${res.stderr.trim()}`;
      if (CI) assert.unreachable(why);
      console.error(`\n!! conformance: SKIPPED the relaxed-SIMD build: ${why}\n`);
      return;
    }
    const passed = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? NaN), total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? NaN);
    assert.ok(res.status === 0 && passed === total && total > ops.length, `relaxed-SIMD child: ${passed}/${total} passed (exit ${res.status}):\n${out.slice(-4000)}`);
  });
}

if (!ONLY || ONLY === 'webgpu') {
  const gpu = await requestNodeGpu();
  if (!gpu.gpu) {
    if (CI) test('a WebGPU adapter is available (required under CI=true)', () => assert.unreachable(`no WebGPU adapter: ${gpu.reason}`));
    else console.error(`\n!! conformance: SKIPPED webgpu: no adapter (${gpu.reason}); CI=true makes this a failure\n`);
  } else {
    let runner: WebGpuOpRunner;
    beforeOrFail(test, 'webgpu runner', async () => { runner = await WebGpuOpRunner.create(gpu.adapter, 'conformance'); });
    suite('webgpu', () => runner, GPU_SHAPES);
    test.after(() => runner?.dispose());
  }
}

test.run();
