// Graphs in YAML (Keras functional semantics): named inputs, merge layers,
// and the mistakes `tessera validate` reports at their line and column: an
// unknown input (with a did-you-mean), a cycle, a merge of incompatible
// shapes (both shapes named), a layer whose output nothing uses, and a
// layer with the wrong number of inputs. Plus what a graph compiles to.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatConfigError, inferLayers, validateModelConfig, type ConfigError, type ValidationResult } from '../src/config/index.js';
import { compileGraph } from '../src/runtime/graph.js';
import { tessera } from './support/cli.js';

// A residual MLP; tests edit one line of it. Line numbers:
const VALID = [
  'name: m', //                                   1
  'seed: 1', //                                   2
  'input_shape: [28, 28]', //                     3
  'layers:', //                                   4
  '  - type: flatten', //                         5
  '  - type: dense', //                           6
  '    name: stem', //                            7
  '    units: 16', //                             8
  '  - type: dense', //                           9
  '    name: block', //                           10
  '    units: 16', //                             11
  '  - type: add', //                             12
  '    inputs: [stem, block]', //                 13
  '  - type: dense', //                           14
  '    units: 10', //                             15
  'loss: {type: sparse_categorical_crossentropy}', // 16
  'optimizer: {type: adam}', //                   17
  'training: {epochs: 1, batch_size: 32}', //     18
  'dataset: {name: mnist}', //                    19
  '',
].join('\n');

function edit(from: string, to: string, text = VALID): string {
  assert.ok(text.includes(from), `fixture lacks ${JSON.stringify(from)}`);
  return text.replace(from, to);
}

function expectOne(text: string, line: number, column: number, ...gist: string[]): ConfigError {
  const r = validateModelConfig(text, 'graph.yaml');
  if (r.ok) assert.unreachable('expected the model to be invalid');
  const errors = (r as Extract<ValidationResult, { ok: false }>).errors;
  assert.is(errors.length, 1, errors.map((e) => formatConfigError(e)).join('\n'));
  const e = errors[0]!;
  assert.equal([e.line, e.column], [line, column], `position of: ${e.message}`);
  for (const g of gist) assert.ok(e.message.includes(g), `"${e.message}" should contain "${g}"`);
  return e;
}

test('the residual fixture is valid; the add layer takes both branches, and the walk keeps file order', () => {
  const r = validateModelConfig(VALID);
  assert.ok(r.ok, r.ok ? '' : r.errors.map((e) => e.message).join('\n'));
  if (!r.ok) return;
  assert.equal(r.layers.map((l) => l.inputs), [['input'], ['flatten_1'], ['stem'], ['stem', 'block'], ['add_1']]);
  assert.equal(inferLayers(r.spec).topology.order, [0, 1, 2, 3, 4]);
});

test('an unknown input name is an error at its entry, with a did-you-mean', () => {
  expectOne(edit('inputs: [stem, block]', 'inputs: [stem, blok]'), 13, 20, "unknown input 'blok'", "did you mean 'block'?");
});

test('a cycle is an error at the inputs of its first layer, naming the layers around it', () => {
  // stem takes block, block takes stem (by default, the previous layer).
  expectOne(edit("    name: stem\n", "    name: stem\n    inputs: [block]\n"), 8, 13, 'cycle', 'stem → block → stem');
});

test('a merge of incompatible shapes names both inputs and their shapes', () => {
  expectOne(edit("    name: block\n    units: 16", "    name: block\n    units: 12"), 13, 13, 'an add layer needs inputs of one shape', 'stem [16]', 'block [12]');
});

test('a layer whose output nothing uses is an error at that layer', () => {
  // The add takes stem and the flatten output... of the wrong size; use a concatenate to keep shapes legal.
  const text = edit('  - type: add\n    inputs: [stem, block]', '  - type: concatenate\n    inputs: [stem, stem]');
  expectOne(text, 9, 5, "output of layer 'block' is not used");
});

test('a merge needs two inputs, subtract exactly two, and a dense layer one', () => {
  expectOne(edit('inputs: [stem, block]', 'inputs: [block]'), 13, 13, 'an add layer takes 2 or more inputs');
  expectOne(edit('  - type: add\n    inputs: [stem, block]', '  - type: subtract\n    inputs: [stem, block, stem]'), 13, 13, 'takes 2 inputs', 'has 3');
  expectOne(edit('  - type: dense\n    units: 10', '  - type: dense\n    inputs: [add_1, stem]\n    units: 10'), 15, 13, 'a dense layer takes 1 input', 'has 2');
});

test('concatenate: an axis out of range, and inputs that disagree off the axis, are errors with the shapes', () => {
  const concat = (inputs: string, axis: number) => edit('  - type: add\n    inputs: [stem, block]', `  - type: concatenate\n    inputs: ${inputs}\n    axis: ${axis}`);
  expectOne(concat('[stem, block]', 1), 14, 11, 'axis 1 is out of range', '[16]');
  const r = validateModelConfig(concat('[stem, block]', -1));
  assert.ok(r.ok && r.layers[3]!.outputShape[0] === 32, 'concatenating [16] and [16] gives [32]');
  // The model input [28, 28] and block's [16] differ in rank.
  expectOne(concat('[block, input]', 0), 13, 13, 'agree on every other axis', 'block [16]', 'input [28, 28]');
});

test('a tensor used twice gets its gradients summed with an add op, in consumer order', () => {
  const r = validateModelConfig(VALID);
  assert.ok(r.ok);
  if (!r.ok) return;
  const g = compileGraph(r.spec, 4);
  // stem feeds block and the add: two gradients reach it and are summed before stem's own backward.
  const sums = g.backward.filter((op) => op.kind === 'add');
  assert.is(sums.length, 1);
  const sum = sums[0]! as unknown as { a: string; b: string; y: string };
  assert.equal([sum.a, sum.b], ['grad:stem/out', 'grad:add_1:out'], 'block\'s dX (consumer 2) first, then the add\'s pass-through (consumer 3)');
  const stemWeights = g.backward.findIndex((op) => op.kind === 'dense_backward_weights' && op.layer === 'stem');
  assert.ok(g.backward.indexOf(sums[0]!) < stemWeights, 'summed before stem uses it');
});

test('tessera validate shows a graph\'s edges in a Connected to column', async () => {
  const r = await tessera('validate', 'models/mnist-residual.yaml');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /Connected to/);
  assert.match(r.stdout, /residual\s+add\s+\(None, 128\)\s+0\s+stem, block/);
  const plain = await tessera('validate', 'models/mnist.yaml');
  assert.not.match(plain.stdout, /Connected to/, 'a plain stack keeps the Sequential table');
});

test.run();
