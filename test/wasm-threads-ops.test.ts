// The threaded wasm backend on the ops beyond the MLP and the plain CNN
// (issue 14): batch normalization split by channels, RMSprop with gradient
// clipping and L1L2 split by float ranges, the char transformer (embedding,
// position embedding, layer norm, attention by examples; layer norm's and
// the embeddings' parameter gradients by columns; sequence_xent by rows),
// the regression and classification losses and metrics by rows with their
// sums in row order: the losses, metrics, weights and predictions after an
// epoch are those of 1 thread, bit for bit, at 2 and 3 threads.
import '../src/node/wasm-workers.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModelConfig } from '../src/config/index.js';
import type { ModelSpec } from '../src/config/types.js';
import { inputShapeFromData } from '../src/config/validate.js';
import { takeExamples } from '../src/data/idx.js';
import { loadDataset } from '../src/data/load-node.js';
import { loadMnist } from '../src/data/node.js';
import { sliceExamples } from '../src/data/split.js';
import type { DatasetTensors } from '../src/runtime/backend.js';
import { WasmBackend } from '../src/runtime/backends/wasm.js';
import { Model } from '../src/runtime/model.js';

const mlp = await loadModelConfig('models/mnist.yaml');
const mnist = await loadMnist(mlp.dataset, 'models');

async function trainAt(spec: ModelSpec, threads: number, train: DatasetTensors, testSet: DatasetTensors) {
  const s = structuredClone(spec);
  s.training.epochs = 1;
  const backend = await WasmBackend.create({ relaxed: 'auto', threads });
  try {
    assert.is(backend.threads, threads);
    const model = await Model.create(s, { backend });
    const r = await model.fit(train, { test: testSet });
    const evalTest = await model.evaluate(testSet);
    // predict's outputs (probabilities or raw outputs) of the first test examples: the losses' predict path on the threads.
    const shown = Math.min(testSet.count, 40), bytesPer = testSet.images.length / testSet.count;
    const predicted = await model.predict(testSet.images.subarray(0, shown * bytesPer), shown);
    return { epoch: { ...r.epochs[0]!, seconds: 0 }, evalTest, predicted, params: await backend.readParams(), split: threads > 1 ? backend.threadSteps().split : 0 };
  } finally {
    backend.dispose();
  }
}

const bytes = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);

async function sameAtThreads(name: string, spec: ModelSpec, train: DatasetTensors, testSet: DatasetTensors): Promise<void> {
  const one = await trainAt(spec, 1, train, testSet);
  assert.ok(Number.isFinite(one.epoch.loss) && one.epoch.loss > 0, `${name}: loss ${one.epoch.loss}`);
  for (const threads of [2, 3]) {
    const many = await trainAt(spec, threads, train, testSet);
    assert.equal(many.epoch, one.epoch, `${name}, ${threads} threads: epoch metrics`);
    assert.equal(many.evalTest, one.evalTest, `${name}, ${threads} threads: evaluation`);
    assert.ok(bytes(many.predicted).equals(bytes(one.predicted)), `${name}, ${threads} threads: predict differs from 1 thread`);
    many.params.forEach((p, i) => assert.ok(bytes(p).equals(bytes(one.params[i]!)), `${name}, ${threads} threads: weight ${i} differs from 1 thread`));
    assert.ok(many.split > 0, `${name}: no record split`);
  }
}

test('batch-normalized CNN (mnist-cnn-bn.yaml): an epoch at 2 and 3 threads is 1 thread\'s, bit for bit', async () => {
  const spec = await loadModelConfig('models/mnist-cnn-bn.yaml');
  spec.training.batch_size = 32;
  await sameAtThreads('BN CNN', spec, takeExamples(mnist.train, 192), takeExamples(mnist.test, 96));
});

test('MLP with RMSprop (centered, momentum), clipnorm and an L1L2 kernel regularizer: the same at 1, 2 and 3 threads', async () => {
  const spec = structuredClone(mlp);
  spec.optimizer = { type: 'rmsprop', learning_rate: 0.001, rho: 0.9, momentum: 0.5, epsilon: 1e-7, centered: true, clipnorm: 1 } as never;
  (spec.layers[1] as unknown as Record<string, unknown>).kernel_regularizer = { type: 'l1_l2', l1: 1e-5, l2: 1e-4 };
  await sameAtThreads('RMSprop MLP', spec, takeExamples(mnist.train, 640), takeExamples(mnist.test, 200));
});

test('MLP with categorical cross-entropy (label smoothing) and top-k accuracy, and with binary cross-entropy: the same at 1, 2 and 3 threads', async () => {
  const cat = structuredClone(mlp);
  cat.loss = { type: 'categorical_crossentropy', from_logits: true, label_smoothing: 0.1 } as never;
  cat.metrics = ['accuracy', { type: 'top_k_categorical_accuracy', k: 2 }] as never;
  await sameAtThreads('categorical', cat, takeExamples(mnist.train, 640), takeExamples(mnist.test, 200));
  const binary = structuredClone(mlp);
  binary.loss = { type: 'binary_crossentropy', from_logits: false } as never;
  binary.metrics = ['binary_accuracy'] as never;
  (binary.layers[3] as unknown as Record<string, unknown>).units = 1;
  (binary.layers[3] as unknown as Record<string, unknown>).activation = 'sigmoid';
  const twoClass = (d: DatasetTensors): DatasetTensors => ({ ...d, labels: d.labels.map((l) => (l >= 5 ? 1 : 0)) });
  await sameAtThreads('binary', binary, twoClass(takeExamples(mnist.train, 640)), twoClass(takeExamples(mnist.test, 200)));
});

test('iris regression (mean squared error, MAE metric; batch 8): the same at 1, 2 and 3 threads', async () => {
  const spec = await loadModelConfig('models/iris-regression.yaml');
  const data = await loadDataset(spec, 'models');
  spec.data = data.facts;
  spec.input_shape = inputShapeFromData(spec, data.facts);
  await sameAtThreads('iris regression', spec, data.train, data.test);
});

test('char transformer (models/char-rhymes.yaml): an epoch at 2 and 3 threads is 1 thread\'s, bit for bit', async () => {
  const spec = await loadModelConfig('models/char-rhymes.yaml');
  const data = await loadDataset(spec, 'models');
  spec.data = data.facts;
  await sameAtThreads('char transformer', spec, sliceExamples(data.train, 0, 159), data.test);
});

test.run();
