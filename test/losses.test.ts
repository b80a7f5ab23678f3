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
import { regressionLoss } from '../src/ops/regression_loss.js';
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

test('metrics that the loss cannot give are errors at the metric', () => {
  assert.equal(errorsOf(yaml('{type: sparse_categorical_crossentropy}', 10, '[accuracy, mse]')), [
    '9:21 mse compares the outputs with float targets, which sparse_categorical_crossentropy does not read',
  ]);
});
test.run();
