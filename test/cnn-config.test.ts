// Convolutional model files: the Keras convnet's parameter count and
// shapes, TensorFlow's valid/same arithmetic (odd padding totals on the
// bottom/right), HWIO kernels under Keras names, and the shape errors of
// issue 11 at the layer's line and column with both shapes.

import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateModelConfig, type ConfigError } from '../src/config/index.js';
import { axis, window2d } from '../src/ops/conv-geometry.js';

const CNN = readFileSync('models/mnist-cnn.yaml', 'utf8');

/** A model file with these layer lines (YAML, 2-space list items under `layers:`), starting at line 5. */
function model(layers: string, inputShape = '[28, 28, 1]'): string {
  return [
    'name: t', 'seed: 1', `input_shape: ${inputShape}`, 'layers:', layers,
    'loss: {type: sparse_categorical_crossentropy, from_logits: true}', 'optimizer: {type: adam}',
    'training: {epochs: 1, batch_size: 32}', 'dataset: {name: mnist}', '',
  ].join('\n');
}

function errorsOf(text: string): ConfigError[] {
  const r = validateModelConfig(text, 'bad.yaml');
  assert.not.ok(r.ok, 'expected the model to be invalid');
  return r.ok ? [] : r.errors;
}

test('the Keras convnet has 34,826 parameters and its layer shapes', () => {
  const r = validateModelConfig(CNN, 'mnist-cnn.yaml');
  assert.ok(r.ok, r.ok ? '' : r.errors.map((e) => e.message).join('\n'));
  if (!r.ok) return;
  assert.equal(r.layers.map((l) => l.params), [320, 0, 18_496, 0, 0, 0, 16_010]);
  assert.equal(r.layers.map((l) => l.outputShape), [[26, 26, 32], [13, 13, 32], [11, 11, 64], [5, 5, 64], [1600], [1600], [10]]);
  assert.equal(r.layers[2]!.paramDecls.map((p) => [p.name, p.shape]), [['kernel', [3, 3, 32, 64]], ['bias', [64]]]);
  assert.is(r.layers.reduce((a, l) => a + l.params, 0), 34_826);
});

test("TensorFlow's same padding: ceil(in/stride) outputs, the odd padding row at the bottom", () => {
  // in 7, k 3, stride 2: out 4, total padding (4−1)·2 + 3 − 7 = 2 → 1 before, 1 after.
  assert.equal(axis(7, 3, 2, 1, 'same'), { out: 4, padBefore: 1 });
  // in 6, k 3, stride 2: out 3, total (3−1)·2 + 3 − 6 = 1 → 0 before, 1 after (TF puts the odd one last).
  assert.equal(axis(6, 3, 2, 1, 'same'), { out: 3, padBefore: 0 });
  // in 5, k 4, stride 1: out 5, total 3 → 1 before, 2 after.
  assert.equal(axis(5, 4, 1, 1, 'same'), { out: 5, padBefore: 1 });
  // valid with dilation 2: a 3-tap window spans 5.
  assert.equal(axis(9, 3, 1, 2, 'valid'), { out: 5, padBefore: 0 });
  assert.equal(axis(10, 3, 3, 1, 'valid'), { out: 3, padBefore: 0 });
  const g = window2d(6, 7, [3, 3], [2, 2], [1, 1], 'same');
  assert.equal([g.outH, g.outW, g.padTop, g.padLeft], [3, 4, 0, 1]);
});

test('conv2d with same padding and strides gives Keras output shapes', () => {
  const r = validateModelConfig(model('  - {type: conv2d, filters: 8, kernel_size: [5, 3], strides: 2, padding: same}\n  - {type: global_average_pooling2d}\n  - {type: dense, units: 10}'), 'ok.yaml');
  assert.ok(r.ok, r.ok ? '' : r.errors.map((e) => e.message).join('\n'));
  if (r.ok) {
    assert.equal(r.layers[0]!.outputShape, [14, 14, 8]);
    assert.equal(r.layers[0]!.params, 5 * 3 * 1 * 8 + 8);
    assert.equal(r.layers[1]!.outputShape, [8]);
  }
});

test('a conv on a flat input is an error at the layer that says it needs a channel axis', () => {
  const [e, ...rest] = errorsOf(model('  - {type: conv2d, filters: 4, kernel_size: 3}\n  - {type: flatten}\n  - {type: dense, units: 10}', '[28, 28]'));
  assert.is(rest.length, 0, rest.map((x) => x.message).join('\n'));
  assert.equal([e!.line, e!.column], [5, 5]);
  assert.match(e!.message, /conv2d layer needs an input of shape \[height, width, channels\] but gets \[28, 28\]/);
  assert.match(e!.hint ?? '', /\[28, 28, 1\]/);
});

test('a kernel larger than its input is an error with both shapes', () => {
  const [e] = errorsOf(model('  - {type: conv2d, filters: 4, kernel_size: 3}\n  - {type: conv2d, filters: 4, kernel_size: 27}\n  - {type: flatten}\n  - {type: dense, units: 10}'));
  assert.equal([e!.line, e!.column], [6, 5]);
  assert.match(e!.message, /input \[26, 26, 4\]: its 27×27 window is larger than its 26×26 input/);
});

test('a pool that leaves a zero-sized output is an error at the pool', () => {
  const [e] = errorsOf(model('  - {type: max_pooling2d, pool_size: 29}\n  - {type: flatten}\n  - {type: dense, units: 10}'));
  assert.equal([e!.line, e!.column], [5, 5]);
  assert.match(e!.message, /max_pooling2d layer on input \[28, 28, 1\]/);
});

test('a dense layer after a conv without flatten is an error at the dense layer with its shape', () => {
  const [e] = errorsOf(model('  - {type: conv2d, filters: 4, kernel_size: 3}\n  - {type: dense, units: 10}'));
  assert.equal([e!.line, e!.column], [6, 5]);
  assert.match(e!.message, /dense layer needs a flat input but gets shape \[26, 26, 4\]/);
  assert.match(e!.hint ?? '', /flatten/);
});

test('reshape infers one -1 and refuses a different number of values', () => {
  const ok = validateModelConfig(model('  - {type: flatten}\n  - {type: reshape, target_shape: [-1, 28, 1]}\n  - {type: conv2d, filters: 2, kernel_size: 3}\n  - {type: flatten}\n  - {type: dense, units: 10}', '[28, 28]'), 'ok.yaml');
  assert.ok(ok.ok, ok.ok ? '' : ok.errors.map((e) => e.message).join('\n'));
  if (ok.ok) assert.equal(ok.layers[1]!.outputShape, [28, 28, 1]);
  const [e] = errorsOf(model('  - type: reshape\n    target_shape: [27, 28, 1]\n  - {type: flatten}\n  - {type: dense, units: 10}'));
  assert.equal([e!.line, e!.column], [6, 19]);
  assert.match(e!.message, /holds 756 values but the input \[28, 28, 1\] has 784/);
});

test('strides and dilation_rate above 1 together are refused, as in Keras', () => {
  const [e] = errorsOf(model('  - {type: conv2d, filters: 4, kernel_size: 3, strides: 2, dilation_rate: 2}\n  - {type: flatten}\n  - {type: dense, units: 10}'));
  assert.match(e!.message, /strides > 1 and dilation_rate > 1/);
});

test.run();
