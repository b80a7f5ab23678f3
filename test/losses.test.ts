// The losses and metrics beyond sparse_categorical_crossentropy: reference
// formulas against hand-computed Keras values, a small model per loss that
// trains (the loss falls) on synthetic data on js and wasm (and webgpu when
// an adapter is there), the same numbers across backends, the metrics
// (mse, mae, accuracy, …) in the epoch results, and the config errors that
// tie a loss to the last layer, the data and the metrics.
//
// No adapter: under CI=true the webgpu case fails; otherwise it is skipped loudly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModelConfig, validateModelConfig } from '../src/config/index.js';
import type { LossSpec, MetricSpec, ModelSpec } from '../src/config/types.js';
import type { DatasetTensors } from '../src/data/types.js';
import { requestNodeGpu } from '../src/node/webgpu.js';
import { binaryCrossentropy } from '../src/ops/binary_crossentropy.js';
import { categoricalCrossentropy } from '../src/ops/categorical_crossentropy.js';
import { regressionLoss } from '../src/ops/regression_loss.js';
import { topKCount } from '../src/ops/top_k_accuracy.js';
import type { Backend } from '../src/runtime/backend.js';
import { JsBackend } from '../src/runtime/backends/js.js';
import { WasmBackend } from '../src/runtime/backends/wasm.js';
import { WebGpuBackend } from '../src/runtime/backends/webgpu.js';
import { Model } from '../src/runtime/model.js';
import { hashAt, rngKey } from '../src/runtime/rng.js';
import type { EpochResult } from '../src/runtime/trainer.js';

const CI = process.env.CI === 'true' || process.env.CI === '1';
const close = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-12);

// ---------------------------------------------------------------- reference formulas

test('mean_squared_error, mean_absolute_error, huber: Keras values and gradients, by hand', () => {
  // One row, y = [1, −2], t = [0.5, 1]: e = [0.5, −3].
  const y = Float32Array.of(1, -2), t = Float32Array.of(0.5, 1), d = new Float32Array(2);
  assert.is(regressionLoss('mean_squared_error', y, t, d, 1, 2, 1, 1), (0.25 + 9) / 2);
  assert.equal([...d], [0.5, -3]); // 2e / (W · rows)
  assert.is(regressionLoss('mean_absolute_error', y, t, d, 1, 2, 1, 1), (0.5 + 3) / 2);
  assert.equal([...d], [0.5, -0.5]); // sign(e) / W
  // Huber δ = 1: ½·0.25 and 1·(3 − ½) → (0.125 + 2.5) / 2; slopes e and δ·sign(e).
  assert.is(regressionLoss('huber', y, t, d, 1, 2, 1, 1), (0.125 + 2.5) / 2);
  assert.equal([...d], [0.25, -0.5]);
  // δ = 4: both quadratic.
  assert.is(regressionLoss('huber', y, t, d, 1, 2, 4, 1), (0.125 + 4.5) / 2);
  // Two rows: the sum of the rows' means; gradients over rows too.
  const y2 = Float32Array.of(1, -2, 0, 0), t2 = Float32Array.of(0.5, 1, 0, 2), d2 = new Float32Array(4);
  assert.is(regressionLoss('mean_squared_error', y2, t2, d2, 2, 2, 1, 2), 4.625 + 2);
  assert.equal([...d2], [0.25, -1.5, 0, -1]);
});

test('categorical_crossentropy with label_smoothing: Keras values and gradients, by hand', () => {
  // Logits [0, ln 3]: softmax [1/4, 3/4]; label 1.
  const z = Float32Array.of(0, Math.log(3)), d = new Float32Array(2);
  let r = categoricalCrossentropy(z, [1], d, 1, 2, 0, 1);
  assert.ok(close(r.lossSum, -Math.log(0.75), 1e-6));
  assert.is(r.correct, 1);
  assert.ok(close(d[0]!, 0.25, 1e-6) && close(d[1]!, -0.25, 1e-6));
  // ε = 0.2: y′ = [0.1, 0.9].
  r = categoricalCrossentropy(z, [1], d, 1, 2, 0.2, 1);
  assert.ok(close(r.lossSum, -0.1 * Math.log(0.25) - 0.9 * Math.log(0.75), 1e-6));
  assert.ok(close(d[0]!, 0.15, 1e-6) && close(d[1]!, -0.15, 1e-6));
  // Label 0 is not the argmax.
  assert.is(categoricalCrossentropy(z, [0], null, 1, 2, 0, 1).correct, 0);
});

test('binary_crossentropy: from logits stable at ±1000, from probabilities clipped as Keras', () => {
  const d = new Float32Array(3);
  // z = 2, label 1: log(1 + e^−2), gradient σ(2) − 1; z = −1000, label 1: 1000; z = 1000, label 0: 1000.
  let r = binaryCrossentropy(Float32Array.of(2, -1000, 1000), [1, 1, 0], d, 3, true, 0, 1);
  assert.ok(close(r.lossSum, Math.log1p(Math.exp(-2)) + 2000, 1e-9));
  assert.ok(close(d[0]!, 1 / (1 + Math.exp(-2)) - 1, 1e-6));
  assert.equal([d[1], d[2]], [-1, 1]);
  assert.is(r.correct, 1);
  // p = 0.8, label 1: −log 0.8; p = 0 (clipped to 1e-7), label 1: −log 1e-7 with no gradient; ε = 0.1 smooths label 0 to 0.05.
  r = binaryCrossentropy(Float32Array.of(0.8, 0), [1, 1], d, 2, false, 0, 1);
  assert.ok(close(r.lossSum, -Math.log(Math.fround(0.8)) - Math.log(1e-7), 1e-9));
  assert.ok(close(d[0]!, (0.8 - 1) / (0.8 * 0.2), 1e-6));
  assert.is(d[1], 0);
  assert.is(r.correct, 1);
  r = binaryCrossentropy(Float32Array.of(0.5), [0], d, 1, false, 0.1, 1);
  assert.ok(close(r.lossSum, -(0.05 * Math.log(0.5) + 0.95 * Math.log(0.5)), 1e-9));
  assert.is(r.correct, 1); // 0.5 is not above the threshold: predicted 0
});

test('top_k_categorical_accuracy: the label among the k highest, ties counted in', () => {
  const z = Float32Array.of(3, 1, 2, 2);
  assert.is(topKCount(z, [2], 1, 4, 1), 0); // one logit (3) above 2
  assert.is(topKCount(z, [2], 1, 4, 2), 1);
  assert.is(topKCount(z, [3], 1, 4, 2), 1); // the tie at 2 counts as in
  assert.is(topKCount(z, [1], 1, 4, 3), 0);
  assert.is(topKCount(z, [0], 1, 4, 1), 1);
});

// ---------------------------------------------------------------- training on synthetic data

const base = await loadModelConfig('models/mnist.yaml');
const COUNT = 320;

/** Deterministic bytes; targets a fixed linear function of the first 8 scaled pixels (learnable by a dense layer). */
function regressionData(width: number, seed: number): DatasetTensors {
  const key = rngKey(seed, 77, 0);
  const images = Uint8Array.from({ length: COUNT * 784 }, (_, i) => hashAt(key, i) & 255);
  const targets = new Float32Array(COUNT * width);
  for (let e = 0; e < COUNT; e++) {
    for (let j = 0; j < width; j++) {
      let v = 0.5 - j;
      for (let p = 0; p < 8; p++) v += ((p + j) % 3 - 1) * images[e * 784 + p]! / 255;
      targets[e * width + j] = v;
    }
  }
  return { images, labels: new Uint8Array(COUNT), count: COUNT, features: 784, targets, targetWidth: width };
}

function spec(loss: LossSpec, units: number, metrics: MetricSpec[]): ModelSpec {
  const s = structuredClone(base);
  s.layers = [{ type: 'flatten' }, { type: 'dense', units, activation: 'linear', use_bias: true }];
  s.loss = loss;
  s.metrics = metrics;
  s.optimizer.learning_rate = 0.01;
  s.training.batch_size = 32;
  s.training.epochs = 3;
  return s;
}

async function train(backend: Backend, s: ModelSpec, data: DatasetTensors): Promise<{ epochs: EpochResult[]; predictions: Float32Array }> {
  const model = await Model.create(s, { backend });
  try {
    const r = await model.fit(data);
    return { epochs: r.epochs, predictions: await model.predict(data.images.subarray(0, 5 * 784), 5) };
  } finally {
    model.dispose();
  }
}

const gpu = await requestNodeGpu();
type Maker = () => Promise<Backend>;
const backends: [string, Maker][] = [['js', async () => new JsBackend()], ['wasm', () => WasmBackend.create()]];
if (gpu.gpu) backends.push(['webgpu', () => WebGpuBackend.create(gpu.gpu!, { backendLabel: gpu.backend, featureLevel: gpu.featureLevel })]);
else if (CI) test('a WebGPU adapter is available (required under CI=true)', () => assert.unreachable(`no WebGPU adapter: ${gpu.reason}`));
else console.error(`\n!! losses: SKIPPED webgpu: no adapter (${gpu.reason}); CI=true makes this a failure\n`);

const REGRESSION: { loss: LossSpec; width: number }[] = [
  { loss: { type: 'mean_squared_error' }, width: 2 },
  { loss: { type: 'mean_absolute_error' }, width: 1 },
  { loss: { type: 'huber', delta: 1 }, width: 3 },
];

for (const { loss, width } of REGRESSION) {
  test(`${loss.type}: trains on float targets (the loss falls), with mse and mae, the same on ${backends.map(([n]) => n).join(', ')}`, async () => {
    const data = regressionData(width, 5);
    const s = spec(loss, width, ['mse', 'mae']);
    const runs: Record<string, Awaited<ReturnType<typeof train>>> = {};
    for (const [name, make] of backends) runs[name] = await train(await make(), s, data);
    const js = runs.js!;
    const [first, , last] = js.epochs;
    assert.ok(last!.loss < 0.7 * first!.loss, `${loss.type}: loss ${first!.loss} → ${last!.loss}`);
    for (const e of js.epochs) {
      assert.equal(Object.keys(e.metrics), ['mse', 'mae']);
      // The mse metric is the mse loss, computed by the same formula on the same outputs.
      if (loss.type === 'mean_squared_error') assert.ok(close(e.metrics.mse!, e.loss, 1e-12), `mse ${e.metrics.mse} vs loss ${e.loss}`);
      if (loss.type === 'mean_absolute_error') assert.ok(close(e.metrics.mae!, e.loss, 1e-12), `mae ${e.metrics.mae} vs loss ${e.loss}`);
      assert.ok(e.metrics.mae! > 0 && e.metrics.mse! > 0);
    }
    // predict returns the outputs as they are: width per example.
    assert.is(js.predictions.length, 5 * width);
    for (const [name] of backends.slice(1)) {
      const r = runs[name]!;
      r.epochs.forEach((e, i) => {
        const want = js.epochs[i]!;
        assert.ok(close(e.loss, want.loss, 2e-3), `${name} epoch ${i + 1}: loss ${e.loss} vs js ${want.loss}`);
        for (const m of ['mse', 'mae']) assert.ok(close(e.metrics[m]!, want.metrics[m]!, 2e-3), `${name} epoch ${i + 1}: ${m} ${e.metrics[m]} vs js ${want.metrics[m]}`);
      });
      r.predictions.forEach((v, i) => assert.ok(Math.abs(v - js.predictions[i]!) < 2e-3 * Math.max(1, Math.abs(js.predictions[i]!)), `${name} prediction ${i}: ${v} vs js ${js.predictions[i]}`));
    }
  });
}

/** Labels from the first pixel: class floor(p / 64) (0…3) of 10, or p > 127 for two classes. */
function classData(binary: boolean, seed: number): DatasetTensors {
  const d = regressionData(1, seed);
  const labels = Uint8Array.from({ length: COUNT }, (_, e) => (binary ? (d.images[e * 784]! > 127 ? 1 : 0) : d.images[e * 784]! >> 6));
  return { images: d.images, labels, count: COUNT, features: 784 };
}

const CLASSIFICATION: { loss: LossSpec; units: number; activation: 'linear' | 'sigmoid'; metrics: MetricSpec[] }[] = [
  { loss: { type: 'categorical_crossentropy', from_logits: true, label_smoothing: 0.1 }, units: 10, activation: 'linear', metrics: ['accuracy', { type: 'top_k_categorical_accuracy', k: 2 }] },
  { loss: { type: 'binary_crossentropy', from_logits: true }, units: 1, activation: 'linear', metrics: ['accuracy', 'binary_accuracy'] },
  { loss: { type: 'binary_crossentropy', from_logits: false }, units: 1, activation: 'sigmoid', metrics: ['binary_accuracy'] },
];

for (const { loss, units, activation, metrics } of CLASSIFICATION) {
  const what = `${loss.type}${'from_logits' in loss && loss.type === 'binary_crossentropy' ? ` (from_logits: ${loss.from_logits})` : ''}`;
  test(`${what}: trains on class ids (the loss falls, accuracy rises), the same on ${backends.map(([n]) => n).join(', ')}`, async () => {
    const data = classData(true, 3); // labels 0/1 from the first pixel: learnable by a linear layer
    const s = spec(loss, units, metrics);
    s.layers[1] = { type: 'dense', units, activation, use_bias: true };
    const runs: Record<string, Awaited<ReturnType<typeof train>>> = {};
    for (const [name, make] of backends) runs[name] = await train(await make(), s, data);
    const js = runs.js!;
    const [first, , last] = js.epochs;
    const names = metrics.map((m) => (typeof m === 'string' ? m : m.type));
    assert.equal(Object.keys(last!.metrics), names);
    assert.ok(last!.loss < 0.9 * first!.loss, `${what}: loss ${first!.loss} → ${last!.loss}`);
    const acc = names[0]!;
    assert.ok(last!.metrics[acc]! > first!.metrics[acc]! && last!.metrics[acc]! > 0.6, `${what}: ${acc} ${first!.metrics[acc]} → ${last!.metrics[acc]}`);
    if (names.includes('binary_accuracy') && names.includes('accuracy')) assert.is(last!.metrics.accuracy, last!.metrics.binary_accuracy);
    if (names.includes('top_k_categorical_accuracy')) assert.ok(last!.metrics.top_k_categorical_accuracy! >= last!.metrics.accuracy!);
    // predict: probabilities (softmax rows sum to 1; a sigmoid or a sigmoid unit's output in (0, 1)).
    assert.is(js.predictions.length, 5 * units);
    assert.ok(js.predictions.every((p) => p > 0 && p < 1));
    for (const [name] of backends.slice(1)) {
      const r = runs[name]!;
      r.epochs.forEach((e, i) => {
        const want = js.epochs[i]!;
        assert.ok(close(e.loss, want.loss, 2e-3), `${name} epoch ${i + 1}: loss ${e.loss} vs js ${want.loss}`);
        for (const m of names) assert.ok(Math.abs(e.metrics[m]! - want.metrics[m]!) <= 2 / COUNT, `${name} epoch ${i + 1}: ${m} ${e.metrics[m]} vs js ${want.metrics[m]}`);
      });
      r.predictions.forEach((v, i) => assert.ok(Math.abs(v - js.predictions[i]!) < 2e-3, `${name} prediction ${i}: ${v} vs js ${js.predictions[i]}`));
    }
  });
}

test('validation: val_ metrics of a regression model, and the history names', async () => {
  const s = spec({ type: 'mean_squared_error' }, 2, ['mae']);
  s.training.epochs = 1;
  s.training.validation_split = 0.25;
  const model = await Model.create(s, { backend: new JsBackend() });
  const r = await model.fit(regressionData(2, 9));
  model.dispose();
  const e = r.epochs[0]!;
  assert.equal(Object.keys(e.valMetrics!), ['mae']);
  assert.ok(e.valLoss! > 0 && e.valMetrics!.mae! > 0);
});

// ---------------------------------------------------------------- config errors

const yaml = (loss: string, units: number, metrics = '[accuracy]', activation = 'linear') => `name: m
seed: 1
input_shape: [28, 28]
layers:
  - {type: flatten}
  - {type: dense, units: ${units}, activation: ${activation}}
loss: ${loss}
optimizer: {type: adam}
metrics: ${metrics}
training: {epochs: 1, batch_size: 32}
dataset: {name: mnist}
`;

function errorsOf(text: string): string[] {
  const r = validateModelConfig(text, 'm.yaml');
  return r.ok ? [] : r.errors.map((e) => `${e.line}:${e.column} ${e.message}`);
}

test('a regression loss on class ids is an error at the loss line, with the shapes', () => {
  assert.equal(errorsOf(yaml('{type: mean_squared_error}', 10, '[mse]')), [
    '7:14 mean_squared_error compares the outputs with float targets, but mnist gives class ids (10 classes) and no targets; the last layer has 10 units',
  ]);
});

test('binary_crossentropy needs one unit and two classes, at the loss line', () => {
  assert.equal(errorsOf(yaml('{type: binary_crossentropy, from_logits: true}', 10)), [
    '7:14 binary_crossentropy needs 1 output unit (the probability of label 1), but the last layer has 10 units',
  ]);
  assert.equal(errorsOf(yaml('{type: binary_crossentropy, from_logits: true}', 1)), [
    '7:14 binary_crossentropy reads labels 0/1, but mnist has 10 classes; the last layer has 1 unit',
  ]);
});

test('metrics that the loss cannot give are errors at the metric', () => {
  assert.equal(errorsOf(yaml('{type: sparse_categorical_crossentropy}', 10, '[accuracy, mse]')), [
    '9:21 mse compares the outputs with float targets, which sparse_categorical_crossentropy does not read',
  ]);
});
test('a callback may monitor any metric and its val_ form; a misspelt one gets a did-you-mean', () => {
  const withMonitor = (monitor: string) => yaml('{type: sparse_categorical_crossentropy}', 10, '[accuracy, {type: top_k_categorical_accuracy, k: 3}]')
    .replace('training: {epochs: 1, batch_size: 32}', `training: {epochs: 1, batch_size: 32, validation_split: 0.1, callbacks: [{type: early_stopping, monitor: ${monitor}}]}`);
  assert.equal(errorsOf(withMonitor('val_top_k_categorical_accuracy')), []);
  const [error] = errorsOf(withMonitor('val_top_k_categorical_acuracy'));
  assert.match(error!, "did you mean 'val_top_k_categorical_accuracy'?");
});

test.run();
