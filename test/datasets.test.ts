// Datasets of any shape and number of classes: IDX files of any example
// shape, float32 features (gather_f32), Fashion-MNIST from its Debian
// package, and the model checked against what the data holds (one error at
// the YAML line, naming the file and both shapes; input_shape taken from
// the data when left out).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateModelConfig } from '../src/config/validate.js';
import { DataError } from '../src/data/errors.js';
import { exampleNoun } from '../src/data/facts.js';
import { loadIdx } from '../src/data/node.js';
import type { DatasetTensors } from '../src/data/types.js';
import { JsBackend } from '../src/runtime/backends/js.js';
import { WasmBackend } from '../src/runtime/backends/wasm.js';
import { Model } from '../src/runtime/model.js';
import { tessera, tesseraWithEnv } from './support/cli.js';
import { idx } from './support/idx.js';

/** The promise rejects with a DataError whose one-line message matches. */
async function rejects(p: Promise<unknown>, match: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, DataError);
    assert.match((e as Error).message, match);
    assert.not.ok((e as Error).message.includes('\n'), 'one line');
    return;
  }
  assert.unreachable(`expected an error matching ${match}`);
}

const dir = mkdtempSync(join(tmpdir(), 'tessera-datasets-'));


/** A model file over `dataset` lines, with `inputShape` (or none) and `units` in the last layer. */
function modelText(dataset: string, inputShape: string | null, units: number): string {
  return [
    'name: t', 'seed: 3', ...(inputShape ? [`input_shape: ${inputShape}`] : []),
    'layers:', '  - type: flatten', '  - type: dense', '    units: 8', '    activation: relu', '  - type: dense', `    units: ${units}`, '    activation: linear',
    'loss: {type: sparse_categorical_crossentropy, from_logits: true}', 'optimizer: {type: adam, learning_rate: 0.01}',
    'training: {epochs: 1, batch_size: 4}', 'dataset:', ...dataset.split('\n').map((l) => `  ${l}`), 'backend: js', '',
  ].join('\n');
}

// 12 examples of shape [2, 3] in 3 classes; 6 test examples.
const pixels = (n: number) => Array.from({ length: n * 6 }, (_, i) => (i * 37) % 256);
writeFileSync(join(dir, 'tr-x'), idx([12, 2, 3], pixels(12)));
writeFileSync(join(dir, 'tr-y'), idx([12], Array.from({ length: 12 }, (_, i) => i % 3)));
writeFileSync(join(dir, 'te-x'), idx([6, 2, 3], pixels(6)));
writeFileSync(join(dir, 'te-y'), idx([6], [0, 1, 2, 0, 1, 2]));
const FILES = 'train_images: tr-x\ntrain_labels: tr-y\ntest_images: te-x\ntest_labels: te-y';

test('IDX of any example shape: [2, 3] examples, 3 classes counted from the labels', async () => {
  const d = await loadIdx({ train_images: 'tr-x', train_labels: 'tr-y', test_images: 'te-x', test_labels: 'te-y' }, dir);
  assert.equal(d.facts.inputShape, [2, 3]);
  assert.is(d.facts.classes, 3);
  assert.is(d.facts.dtype, 'uint8');
  assert.is(d.train.count, 12);
  assert.is(d.facts.source, join(dir, 'tr-x'));
});

test('input_shape left out: taken from the data; validate without data says the shapes wait for it', async () => {
  const text = modelText(FILES, null, 3);
  const bare = validateModelConfig(text, 'm.yaml');
  assert.ok(bare.ok && bare.inputFromData, 'valid, input from the data');
  const d = await loadIdx({ train_images: 'tr-x', train_labels: 'tr-y', test_images: 'te-x', test_labels: 'te-y' }, dir);
  const r = validateModelConfig(text, 'm.yaml', { data: d.facts });
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.equal(r.spec.input_shape, [2, 3]);
  assert.equal(r.layers.map((l) => l.outputShape), [[6], [8], [3]]);
});

test('a model that does not fit its data: one error at the YAML line, naming the file and both shapes', async () => {
  const d = await loadIdx({ train_images: 'tr-x', train_labels: 'tr-y', test_images: 'te-x', test_labels: 'te-y' }, dir);
  const r = validateModelConfig(modelText(FILES, '[28, 28]', 3), 'm.yaml', { data: d.facts });
  assert.ok(!r.ok);
  if (r.ok) return;
  assert.is(r.errors.length, 1);
  assert.is(r.errors[0]!.line, 3);
  assert.match(r.errors[0]!.message, `input_shape [28, 28] does not match the data in ${join(dir, 'tr-x')}, which has shape [2, 3]`);
  const u = validateModelConfig(modelText(FILES, '[2, 3]', 10), 'm.yaml', { data: d.facts });
  assert.ok(!u.ok);
  if (u.ok) return;
  assert.is(u.errors.length, 1);
  assert.is(u.errors[0]!.line, 10);
  assert.match(u.errors[0]!.message, `the last layer has 10 units but the data in ${join(dir, 'tr-x')} holds 3 classes`);
});

test('labels out of range for the declared classes, and a test set whose shape differs, name the file and entry', async () => {
  const spec = { train_images: 'tr-x', train_labels: 'tr-y', test_images: 'te-x', test_labels: 'te-y' };
  await rejects(loadIdx({ ...spec, classes: 2 }, dir), /tr-y: label 2 is 2, expected 0\.\.1 \(2 classes\)$/);
  writeFileSync(join(dir, 'te-x4'), idx([6, 4], pixels(4)));
  await rejects(loadIdx({ ...spec, test_images: 'te-x4' }, dir), /te-x4: the test examples have shape \[4\] \(uint8\), but the training examples in .*tr-x have shape \[2, 3\] \(uint8\)$/);
});

test('dataset keys: a format without its files, and keys another format reads, are errors at their line', () => {
  const noFiles = validateModelConfig(modelText('format: idx', '[2, 3]', 3), 'm.yaml');
  assert.ok(!noFiles.ok && /dataset has no name and no train_images/.test(noFiles.errors[0]!.message));
  const stray = validateModelConfig(modelText('name: mnist\nlabel: species', '[28, 28]', 10), 'm.yaml');
  assert.ok(!stray.ok);
  if (stray.ok) return;
  assert.is(stray.errors[0]!.line, 17);
  assert.match(stray.errors[0]!.message, 'dataset.label does not apply to format idx');
});

/** 40 float32 examples of 3 features in 2 classes (class 1 when x0 + x1 > 0). */
function floatSet(count: number, seed: number): DatasetTensors {
  const x = new Float32Array(count * 3), y = new Uint8Array(count);
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 4 - 2;
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < 3; j++) x[i * 3 + j] = rnd();
    y[i] = x[i * 3]! + x[i * 3 + 1]! > 0 ? 1 : 0;
  }
  return { images: new Uint8Array(x.buffer), labels: y, count, features: 3, dtype: 'float32', shape: [3] };
}

test('float32 features: gather_f32 feeds the values as they are; js and wasm train to the same loss', async () => {
  const facts = { source: 'floats', inputShape: [3], classes: 2, dtype: 'float32' as const };
  const text = modelText('train_images: a\ntrain_labels: b\ntest_images: c\ntest_labels: d', null, 2).replace('epochs: 1', 'epochs: 3');
  const losses: number[] = [];
  for (const backend of [new JsBackend(), await WasmBackend.create({ relaxed: false })]) {
    const plan = Model.plan(text, { data: facts });
    assert.is(plan.graph.forward[0]!.kind, 'gather_f32');
    assert.is(plan.graph.inputDtype, 'float32');
    const model = await Model.open(plan, { backend });
    const r = await model.fit(floatSet(40, 1), { test: floatSet(20, 2) });
    losses.push(r.test!.loss);
    assert.ok(r.test!.accuracy >= 0.7, `${backend.name}: learns the linear rule (${r.test!.accuracy})`);
    model.dispose();
  }
  assert.ok(Math.abs(losses[0]! - losses[1]!) < 1e-4, `same loss: ${losses}`);
});

test('fashion_mnist: a clear error naming the Debian package when its files are missing', async () => {
  writeFileSync(join(dir, 'f.yaml'), modelText('name: fashion_mnist', '[28, 28]', 10));
  const r = await tesseraWithEnv({ TESSERA_FASHION_MNIST_DIR: join(dir, 'none') }, 'train', join(dir, 'f.yaml'), '--limit', '8');
  assert.is(r.code, 1);
  assert.match(r.stderr, /no Fashion-MNIST files in .*none: install the Debian package dataset-fashion-mnist/);
  assert.not.match(r.stderr, /\n\s+at /);
});

test('fashion_mnist: the Debian package files load (60,000 and 10,000 28×28 images, 10 classes)', async () => {
  const d = await loadIdx({ name: 'fashion_mnist' }, dir);
  assert.is(d.train.count, 60000);
  assert.is(d.test.count, 10000);
  assert.equal(d.facts.inputShape, [28, 28]);
  assert.is(d.facts.classes, 10);
  assert.is(d.facts.classNames?.[9], 'Ankle boot');
  assert.is(d.train.labels[0], 9); // the first training image is an ankle boot
});

test('models/fashion-mnist*.yaml: input_shape from the named dataset, with a channel axis for the convnet', async () => {
  const { readFileSync } = await import('node:fs');
  const mlp = validateModelConfig(readFileSync('models/fashion-mnist.yaml', 'utf8'), 'models/fashion-mnist.yaml');
  const cnn = validateModelConfig(readFileSync('models/fashion-mnist-cnn.yaml', 'utf8'), 'models/fashion-mnist-cnn.yaml');
  assert.ok(mlp.ok && cnn.ok);
  if (!mlp.ok || !cnn.ok) return;
  assert.equal(mlp.spec.input_shape, [28, 28]);
  assert.equal(cnn.spec.input_shape, [28, 28, 1]);
  assert.is(cnn.layers.at(-1)!.outputShape[0], 10);
});

test('tessera train: an IDX set of any shape with input_shape left out trains', async () => {
  writeFileSync(join(dir, 'any.yaml'), modelText(FILES, null, 3));
  const r = await tessera('train', join(dir, 'any.yaml'), '--quiet');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /test\s+loss \d/);
});

test('the test line names examples as the data holds them: images, CSV rows, text windows, else examples', () => {
  assert.is(exampleNoun(undefined, [28, 28]), 'images');
  assert.is(exampleNoun('npz', [8, 8, 1]), 'images');
  assert.is(exampleNoun('image_folder', [8, 8, 3], 1), 'image');
  assert.is(exampleNoun('csv', [4]), 'rows');
  assert.is(exampleNoun('text', [64]), 'windows');
  assert.is(exampleNoun('npz', [3]), 'examples');
  assert.is(exampleNoun('idx', [5], 1), 'example');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
