// Model config validation: one test per kind of mistake, each asserting the
// exact line:column and the gist of the message.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  validateModelConfig,
  loadModelConfig,
  ConfigErrors,
  formatConfigError,
  inferLayers,
  totalParams,
  suggest,
  editDistance,
  type ConfigError,
  type ValidationResult,
} from '../src/config/index.js';

// A small valid model; tests edit one line of it. Line numbers:
const VALID = [
  'name: m', //                                   1
  'seed: 1', //                                   2
  'input_shape: [28, 28]', //                     3
  'layers:', //                                   4
  '  - type: flatten', //                         5
  '  - type: dense', //                           6
  '    units: 128', //                            7
  '    activation: relu', //                      8
  '  - type: dropout', //                         9
  '    rate: 0.2', //                             10
  '  - type: dense', //                           11
  '    units: 10', //                             12
  'loss: {type: sparse_categorical_crossentropy}', // 13
  'optimizer: {type: adam, learning_rate: 0.001}', // 14
  'training: {epochs: 1, batch_size: 32}', //     15
  'dataset: {name: mnist}', //                    16
  '',
].join('\n');

/** VALID with `from` replaced by `to` (which must occur). */
function edit(from: string, to: string, text = VALID): string {
  assert.ok(text.includes(from), `fixture lacks ${JSON.stringify(from)}`);
  return text.replace(from, to);
}

function errorsOf(text: string): ConfigError[] {
  const r = validateModelConfig(text, 'bad.yaml');
  if (r.ok) assert.unreachable('expected the model to be invalid');
  return (r as Extract<ValidationResult, { ok: false }>).errors;
}

/** Exactly one error, at line:column, whose message contains every `gist`. */
function expectOne(text: string, line: number, column: number, ...gist: string[]): ConfigError {
  const errors = errorsOf(text);
  assert.is(errors.length, 1, errors.map((e) => formatConfigError(e)).join('\n'));
  expectAt(errors[0]!, line, column, ...gist);
  return errors[0]!;
}

function expectAt(e: ConfigError, line: number, column: number, ...gist: string[]): void {
  assert.equal([e.line, e.column], [line, column], `position of: ${e.message}`);
  for (const g of gist) assert.ok(e.message.includes(g), `"${e.message}" should contain "${g}"`);
}

test('the fixture is valid', () => {
  const r = validateModelConfig(VALID);
  assert.ok(r.ok, r.ok ? '' : r.errors.map((e) => e.message).join('\n'));
});

test('models/mnist.yaml: 101,770 parameters, Keras names, defaults applied', () => {
  const r = validateModelConfig(readFileSync('models/mnist.yaml', 'utf8'), 'models/mnist.yaml');
  if (!r.ok) return assert.unreachable(r.errors.map((e) => formatConfigError(e)).join('\n'));
  assert.is(totalParams(r.layers), 101_770);
  assert.equal(
    r.layers.map((l) => [l.name, l.outputShape, l.params]),
    [
      ['flatten_1', [784], 0],
      ['dense_1', [128], 100_480],
      ['dropout_1', [128], 0],
      ['dense_2', [10], 1_290],
    ],
  );
  assert.equal(r.layers[1]!.paramShapes, { kernel: [784, 128], bias: [128] });
  assert.equal(r.warnings, []);
  assert.equal(r.spec.layers[1], { type: 'dense', units: 128, activation: 'relu', use_bias: true });
});

test('defaults fill optional keys', () => {
  const r = validateModelConfig(VALID);
  if (!r.ok) return assert.unreachable();
  const s = r.spec;
  assert.equal(s.layers[3], { type: 'dense', units: 10, activation: 'linear', use_bias: true });
  assert.equal(s.optimizer, { type: 'adam', learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false });
  assert.equal(s.loss, { type: 'sparse_categorical_crossentropy', from_logits: true });
  assert.equal(s.training, { epochs: 1, batch_size: 32, shuffle: true, validation_split: 0, callbacks: [] });
  assert.equal(s.metrics, ['accuracy']);
  assert.is(s.backend, 'auto');
});

test('YAML syntax error: tab indentation', () => {
  expectOne(edit('    activation: relu', '\tactivation: relu'), 8, 1, 'YAML syntax', 'tab');
});

test('YAML syntax error: unclosed flow list, reported once', () => {
  const errors = errorsOf(edit('input_shape: [28, 28]', 'input_shape: [28, 28'));
  assert.is(errors.length, 1);
  assert.ok(errors[0]!.message.includes('end with a ]'));
  assert.is(errors[0]!.code, 'syntax');
});

// yaml notices a missing bracket only where the collection runs into a line
// it cannot belong to (the next key, or the end of the file); the error
// points back at the bracket that was left open.
test('unclosed flow [ is reported where it opens', () => {
  const e = expectOne(edit('input_shape: [28, 28]', 'input_shape: [28, 28'), 3, 14, "'[' is never closed", 'end with a ]');
  assert.is(e.hint, 'still open at line 4, column 1');
});

test('unclosed flow { on the last line is reported where it opens, not at the end of the file', () => {
  const e = expectOne(edit('dataset: {name: mnist}', 'dataset: {name: mnist'), 16, 10, "'{' is never closed", 'end with a }');
  assert.is(e.hint, 'the file ended before the closing bracket');
});

test('unclosed flow { in a list item hides the follow-on errors of the lines it swallowed', () => {
  expectOne(edit('  - type: flatten', '  - {type: flatten'), 5, 5, "'{' is never closed");
});

test('unclosed [ inside a closed-looking { points at the [', () => {
  expectOne(edit('  - type: dense\n    units: 10', '  - {type: dense, units: [10}'), 11, 26, "'[' is never closed");
});

test('duplicate key points at the second one and names the first', () => {
  const e = expectOne(edit('    units: 128\n', '    units: 128\n    units: 64\n'), 8, 5, "duplicate key 'units'", 'line 7');
  assert.is(e.endColumn, 10);
});

test("unknown key gets did-you-mean 'units', and no extra missing-key error", () => {
  const e = expectOne(edit('units: 128', 'unts: 128'), 7, 5, "unknown key 'unts' in dense layer", "did you mean 'units'?");
  assert.is(e.code, 'unknown-key');
  assert.is(e.found, "'unts'");
});

test('unknown key without a near miss lists the allowed keys', () => {
  const e = expectOne(edit('seed: 1', 'seed: 1\nlearning_rate: 0.1'), 3, 1, "unknown key 'learning_rate'");
  assert.ok(e.hint?.includes("belongs under 'optimizer'"), e.hint);
});

test('wrong type: units: "many"', () => {
  const e = expectOne(edit('units: 128', 'units: "many"'), 7, 12, "'units' must be an integer", 'found the string "many"');
  assert.is(e.code, 'type');
  assert.is(e.expected, 'an integer');
});

test('out of range: dropout rate 1.5', () => {
  const e = expectOne(edit('rate: 0.2', 'rate: 1.5'), 10, 11, "'rate' must be >= 0 and < 1", 'found 1.5');
  assert.is(e.code, 'range');
});

test('out of range: learning_rate 0', () => {
  expectOne(edit('learning_rate: 0.001', 'learning_rate: 0'), 14, 40, "'learning_rate' must be > 0", 'found 0');
});

test('missing required key: dense without units points at the layer', () => {
  const e = expectOne(edit('    units: 128\n', ''), 6, 5, "dense layer is missing the required key 'units'");
  assert.is(e.code, 'missing-key');
});

test('missing required top-level key', () => {
  expectOne(edit('seed: 1\n', ''), 1, 1, "the model is missing the required key 'seed'");
});

test('unknown enum value lists the allowed values', () => {
  const e = expectOne(edit('activation: relu', 'activation: sigmoidd'), 8, 17, "unknown activation 'sigmoidd'", 'expected one of: linear, relu');
  assert.is(e.code, 'enum');
});

test('unknown enum value with a near miss', () => {
  expectOne(edit('dataset: {name: mnist}', 'dataset: {name: mnsit}'), 16, 17, "unknown dataset name 'mnsit'", "did you mean 'mnist'?");
});

test('unknown layer type', () => {
  expectOne(edit('type: dropout', 'type: dropot'), 9, 11, "unknown layer type 'dropot'", 'dense, dropout, embedding, flatten', "did you mean 'dropout'?");
});

test('shape: dense layer before flatten on a [28, 28] input (it acts on the last axis, so the output is [28, 10])', () => {
  const e = expectOne(edit('  - type: flatten\n', ''), 5, 5, "the model's output has shape [28, 10]", "dense layer 'dense_1' acts on the last axis of its input [28, 28]");
  assert.is(e.hint, "add a flatten layer before 'dense_1'");
  assert.is(e.code, 'shape');
});

test('shape: last layer has 9 units for 10 classes', () => {
  expectOne(edit('units: 10', 'units: 9'), 12, 12, 'the last layer has 9 units but mnist has 10 classes');
});

test('shape: input_shape that does not match the dataset', () => {
  expectOne(edit('input_shape: [28, 28]', 'input_shape: [32, 32]'), 3, 14, 'input_shape [32, 32] does not match', '[28, 28]');
});

test('shape: last layer not dense', () => {
  expectOne(edit('  - type: dense\n    units: 10\n', ''), 9, 5, 'last layer must be a dense layer', 'dropout');
});

test('shape: duplicate layer names', () => {
  expectOne(edit('  - type: dropout', '  - type: dropout\n    name: dense_1'), 10, 11, "duplicate layer name 'dense_1'");
});

test('several errors in one file come in source order', () => {
  const text = edit('rate: 0.2', 'rate: -1', edit('units: 128', 'unts: 128', edit('dataset: {name: mnist}', 'dataset: {name: mnist, extra: 1}\nbackend: gpu')));
  const errors = errorsOf(text);
  assert.equal(
    errors.map((e) => [e.line, e.column, e.code]),
    [
      [7, 5, 'unknown-key'],
      [10, 11, 'range'],
      [16, 24, 'unknown-key'],
      [17, 10, 'enum'],
    ],
  );
});

test('a file that is not a mapping', () => {
  expectOne('just text\n', 1, 1, 'must be a YAML mapping');
  expectOne('', 1, 1, 'must be a YAML mapping', 'empty');
});

test('warning: a relu on the last layer', () => {
  const r = validateModelConfig(edit('    units: 10\n', '    units: 10\n    activation: relu\n'));
  if (!r.ok) return assert.unreachable();
  assert.is(r.warnings.length, 1);
  assert.equal([r.warnings[0]!.line, r.warnings[0]!.column, r.warnings[0]!.severity], [13, 17, 'warning']);
});

test('formatted error: location, source line, caret under the key', () => {
  const [e] = errorsOf(edit('units: 128', 'unts: 128'));
  assert.is(
    formatConfigError({ ...e!, file: 'models/bad.yaml' }),
    [
      "models/bad.yaml:7:5: error: unknown key 'unts' in dense layer; did you mean 'units'?",
      '   7 |     unts: 128',
      '     |     ^^^^',
    ].join('\n'),
  );
});

test('loadModelConfig: valid file, and a missing file is one error without position', async () => {
  const spec = await loadModelConfig('models/mnist.yaml');
  assert.is(spec.name, 'mnist-mlp');
  try {
    await loadModelConfig('models/does-not-exist.yaml');
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, ConfigErrors);
    const errs = (e as ConfigErrors).errors;
    assert.is(errs.length, 1);
    assert.is(errs[0]!.line, 0);
    assert.is((e as Error).message, 'models/does-not-exist.yaml: error: cannot read file: no such file');
  }
});

test('inferLayers uses explicit names and counts bias-free layers', () => {
  const r = validateModelConfig(edit('    activation: relu', '    activation: relu\n    use_bias: false\n    name: hidden'));
  if (!r.ok) return assert.unreachable(r.errors.map((e) => e.message).join('\n'));
  const { layers, errors } = inferLayers(r.spec);
  assert.equal(errors, []);
  assert.is(layers[1]!.name, 'hidden');
  assert.is(layers[1]!.params, 784 * 128);
  assert.equal(layers[1]!.paramShapes, { kernel: [784, 128] });
  assert.is(layers[3]!.name, 'dense_2');
});

test('suggest: edit distance and prefixes', () => {
  assert.is(editDistance('unts', 'units'), 1);
  assert.is(editDistance('kitten', 'sitting'), 3);
  assert.is(suggest('unts', ['type', 'units', 'name']), 'units');
  assert.is(suggest('learning', ['learning_rate', 'beta_1']), 'learning_rate');
  assert.is(suggest('Units', ['units']), 'units');
  assert.is(suggest('xyz', ['type', 'units']), undefined);
});

test('mnist.yaml points the YAML language server at the schema', () => {
  const first = readFileSync('models/mnist.yaml', 'utf8').split('\n')[0]!;
  const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
  assert.ok(m, first);
  assert.ok(existsSync(resolve(dirname('models/mnist.yaml'), m![1]!)));
});

test('model.schema.json is generated from the parts in src/config/schema/', () => {
  // Throws (exit 1) when stale; fix with `npm run docs`.
  execFileSync(process.execPath, ['scripts/gen-schema.mjs', '--check'], { stdio: 'pipe' });
});

test('docs/model-yaml.md is generated from the current schema', () => {
  // Throws (exit 1) when stale; fix with `node scripts/gen-yaml-docs.mjs`.
  execFileSync(process.execPath, ['scripts/gen-yaml-docs.mjs', '--check'], { stdio: 'pipe' });
});

test.run();
