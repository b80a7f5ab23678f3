// batch_normalization on the backends: a small convnet with batch norm after
// a conv and after a dense layer trains on js, wasm and webgpu with matching
// losses and weights (moving statistics included) for a few steps, the last
// one a partial batch; the moving statistics follow Keras's update from the
// batch's own mean; evaluation and prediction use the moving statistics
// (a row's prediction does not depend on its batch); the weights file holds
// gamma, beta, moving_mean and moving_variance under Keras names and loads
// back; wasm at 2 threads gives the weights of 1 thread bit for bit (batch
// norm runs whole on one worker); a run resumed from a checkpoint prints
// the uninterrupted run's numbers, the moving statistics saved as weights. Under CI=true a missing WebGPU adapter
// fails the webgpu case.

import '../src/node/wasm-workers.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LayerSpec, ModelSpec } from '../src/config/types.js';
import { takeExamples } from '../src/data/idx.js';
import { loadMnist } from '../src/data/node.js';
import { loadWeights, saveWeights } from '../src/data/weights-node.js';
import { requestNodeGpu } from '../src/node/webgpu.js';
import type { Backend } from '../src/runtime/backend.js';
import { JsBackend } from '../src/runtime/backends/js.js';
import { WasmBackend } from '../src/runtime/backends/wasm.js';
import { WebGpuBackend } from '../src/runtime/backends/webgpu.js';
import { compileGraph } from '../src/runtime/graph.js';
import { initParams } from '../src/runtime/params.js';
import { epochOrder } from '../src/runtime/rng.js';
import { decodeSafetensorsFile } from '../src/runtime/safetensors.js';
import { tessera } from './support/cli.js';
import { relErr } from './support/compare.js';

const CI = process.env.CI === 'true' || process.env.CI === '1';
const { train, test: testSet } = await loadMnist({ name: 'mnist' }, process.cwd());

const bn = (extra: Record<string, unknown> = {}) => ({ type: 'batch_normalization', axis: -1, momentum: 0.99, epsilon: 0.001, center: true, scale: true, ...extra }) as LayerSpec;
const spec = {
  name: 'cnn-bn', seed: 7, input_shape: [28, 28, 1],
  layers: [
    { type: 'conv2d', filters: 6, kernel_size: 3, strides: 1, padding: 'valid', dilation_rate: 1, activation: 'relu', use_bias: true },
    bn(),
    { type: 'max_pooling2d', pool_size: 2, padding: 'valid' },
    { type: 'flatten' },
    { type: 'dense', units: 16, activation: 'relu', use_bias: true },
    bn({ scale: false }),
    { type: 'dense', units: 10, activation: 'linear', use_bias: true },
  ],
  loss: { type: 'sparse_categorical_crossentropy', from_logits: true },
  optimizer: { type: 'adam', learning_rate: 1e-3, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 },
  metrics: ['accuracy'], training: { epochs: 1, batch_size: 16, shuffle: true },
  dataset: { name: 'mnist' }, backend: 'wasm',
} as unknown as ModelSpec;
const g = compileGraph(spec, 16);
// 56 examples in batches of 16: the fourth step has 8 rows.
const SMALL = takeExamples(train, 56);
const STEPS = 4;
const readBuffer = (be: Backend, name: string) => Promise.resolve((be as unknown as { readBuffer(n: string): Float32Array | Promise<Float32Array> }).readBuffer(name));

interface Run { losses: number[]; params: Float32Array[]; moving1: Float32Array; mean1: Float32Array; evalLoss: number }

async function run(be: Backend): Promise<Run> {
  await be.prepare(g, initParams(g));
  await be.setDataset('train', SMALL);
  await be.setDataset('test', takeExamples(testSet, 40));
  await be.setOrder(epochOrder(SMALL.count, g.seed, 0, true));
  const losses: number[] = [];
  let moving1: Float32Array = new Float32Array(0), mean1: Float32Array = new Float32Array(0);
  for (let s = 0; s < STEPS; s++) {
    await be.trainSteps(s, 1, s);
    const m = await be.readMetrics();
    losses.push(m.lossSum / m.samples);
    if (s === 0) {
      // The first batch norm's input (the conv's ReLU map) of step 1, and the moving mean after it.
      const x = await readBuffer(be, g.forward.find((o) => o.kind === 'batch_norm_train')!.x as string);
      const C = 6, n = 16 * 26 * 26;
      mean1 = new Float32Array(C);
      for (let i = 0; i < n * C; i++) mean1[i % C]! += x[i]! / n;
      moving1 = (await be.readParams())[g.params.findIndex((p) => p.name === 'batch_normalization_1/moving_mean')]!;
    }
  }
  const out = { losses, params: await be.readParams(), moving1, mean1, evalLoss: (await be.evaluate('test')).loss };
  return out;
}

const reference = await run(new JsBackend());

test('the moving mean after one step is 0.01 × the batch mean (Keras: moving·0.99 + batch·0.01), and training moves every weight', () => {
  assert.ok(relErr(reference.moving1, reference.mean1.map((m) => 0.01 * m)) < 1e-5, `${reference.moving1} vs ${reference.mean1}`);
  const init = initParams(g);
  g.params.forEach((p, i) => assert.ok(relErr(reference.params[i]!, init[i]!) > 1e-4, `${p.name} did not change`));
  assert.ok(reference.losses.every(Number.isFinite), `${reference.losses}`);
});

/**
 * Losses and the first moving mean within `tol`; weights after the steps
 * within 10·`tol` plus 1e-3 for Adam: it divides by √v, so summation-order
 * differences in near-zero gradients become steps of up to the learning
 * rate (measured: 4e-4 on dense_1/kernel on wasm after 4 steps).
 */
function matches(got: Run, tol: number, label: string): void {
  assert.ok(relErr(got.losses, reference.losses) < tol, `${label} losses ${got.losses} vs js ${reference.losses}`);
  assert.ok(relErr(got.moving1, reference.moving1) < tol, `${label} moving mean after step 1`);
  got.params.forEach((p, i) => assert.ok(relErr(p, reference.params[i]!) < 10 * tol + 1e-3, `${label} ${g.params[i]!.name} after ${STEPS} steps: relErr ${relErr(p, reference.params[i]!)}`));
  assert.ok(Math.abs(got.evalLoss - reference.evalLoss) < 10 * tol * reference.evalLoss, `${label} evaluation loss ${got.evalLoss} vs ${reference.evalLoss}`);
}

test(`wasm: ${STEPS} steps (the last a partial batch) match the js reference: losses, weights, moving statistics, evaluation`, async () => {
  matches(await run(await WasmBackend.create({ relaxed: false })), 1e-5, 'wasm');
});

test('wasm at 2 threads: the losses and weights of 1 thread, bit for bit', async () => {
  const one = await WasmBackend.create({ relaxed: false, threads: 1 }), two = await WasmBackend.create({ relaxed: false, threads: 2 });
  try {
    assert.is(two.threads, 2);
    // The conv ops split by images around batch norm, which runs whole on worker 0.
    const a = await run(one), b = await run(two);
    assert.equal(b.losses, a.losses);
    a.params.forEach((p, i) => assert.equal([...b.params[i]!], [...p], g.params[i]!.name));
  } finally {
    one.dispose(); two.dispose();
  }
});

const gpu = await requestNodeGpu();
if (gpu.gpu) {
  test(`webgpu: ${STEPS} steps match the js reference: losses, weights, moving statistics, evaluation`, async () => {
    const be = await WebGpuBackend.create(gpu.gpu!, { adapter: gpu.adapter, featureLevel: gpu.featureLevel });
    matches(await run(be), 1e-5, 'webgpu');
    be.dispose();
  });
} else if (CI) {
  test('a WebGPU adapter is available (required under CI=true)', () => assert.unreachable(`no WebGPU adapter: ${gpu.reason}`));
}

test('inference uses the moving statistics: a row\'s prediction does not depend on its batch, and follows moving_variance', async () => {
  const be = await WasmBackend.create({ relaxed: false });
  await be.prepare(g, reference.params);
  const images = takeExamples(testSet, 5).images;
  const five = await be.predict(images, 5);
  const one = await be.predict(images.subarray(0, 784), 1);
  assert.equal([...one], [...five.subarray(0, 10)]);
  const changed = reference.params.map((p, i) => (g.params[i]!.name.endsWith('moving_variance') ? p.map((v) => 4 * v) : p));
  await be.writeParams(changed);
  assert.ok(relErr(await be.predict(images, 5), five) > 1e-3, 'predictions ignore moving_variance');
  be.dispose();
});

test('weights file: gamma, beta, moving_mean, moving_variance under Keras names, loaded back to the same predictions', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'tessera-bn-')), 'w.safetensors');
  await saveWeights(path, g, reference.params);
  const loaded = await loadWeights(path, g);
  const names = g.params.map((p) => p.name);
  for (const n of ['gamma', 'beta', 'moving_mean', 'moving_variance']) assert.ok(names.includes(`batch_normalization_1/${n}`), n);
  assert.equal(names.filter((n) => n.startsWith('batch_normalization_2/')), ['batch_normalization_2/beta', 'batch_normalization_2/moving_mean', 'batch_normalization_2/moving_variance']);
  loaded.params.forEach((p, i) => assert.equal([...p], [...reference.params[i]!], names[i]));
  const a = await WasmBackend.create({ relaxed: false }), b = await WasmBackend.create({ relaxed: false });
  await a.prepare(g, reference.params);
  await b.prepare(g, initParams(g));
  await b.writeParams(loaded.params);
  const images = takeExamples(testSet, 8).images;
  assert.equal([...(await b.predict(images, 8))], [...(await a.predict(images, 8))]);
  a.dispose(); b.dispose();
});

test('checkpoints: a run resumed from an epoch-1 checkpoint prints the epoch-2 and test numbers of the uninterrupted run; moving statistics are saved once, as weights', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bn-ckpt-'));
  const model = join(dir, 'm.yaml');
  writeFileSync(model, readFileSync('models/mnist-cnn-bn.yaml', 'utf8').replace('epochs: 15', 'epochs: 2')
    .replace('  validation_split: 0.1\n', `  validation_split: 0.1\n  callbacks:\n    - type: model_checkpoint\n      filepath: ${join(dir, 'e{epoch}.safetensors')}\n`));
  const args = ['train', model, '--backend', 'wasm', '--limit', '384', '--quiet'];
  const full = await tessera(...args);
  assert.is(full.code, 0, full.stderr);
  const ckpt = decodeSafetensorsFile(readFileSync(join(dir, 'e1.safetensors')), 'e1');
  const names = [...ckpt.tensors.keys()];
  assert.ok(names.includes('batch_normalization_1/moving_variance'), names.join(', '));
  assert.not.ok(names.some((n) => n.startsWith('state/batch_normalization_1/moving') || n.includes('batch_stats')), names.join(', '));
  const resumed = await tessera(...args, '--resume', join(dir, 'e1.safetensors'));
  assert.is(resumed.code, 0, resumed.stderr);
  const tail = (out: string) => out.split('\n').filter((l) => /^(epoch 2\/2|test)/.test(l)).map((l) => l.replace(/\s+[\d.]+ s$/, ''));
  assert.ok(tail(full.stdout).length === 2, full.stdout);
  assert.equal(tail(resumed.stdout), tail(full.stdout));
});

test.run();
