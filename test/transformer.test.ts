// The character transformer's pieces end to end, on a small corpus that
// ships in test/fixtures/text: the text data (vocabulary, windows, targets
// shifted by one, the test split at the end), a small pre-norm causal
// transformer whose training steps agree on js, wasm (1 and 2 threads,
// bit-identical) and webgpu, learning (the loss falls and greedy generation
// continues the corpus's sentences), and `tessera generate` (same seed,
// same text). models/char-transformer.yaml itself is validated here; it
// trains for minutes, which is a benchmark's job (bench/transformer-compare.ts).
// Under CI=true a missing WebGPU adapter fails the webgpu case.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModelConfig } from '../src/config/load-file.js';
import { loadDataset } from '../src/data/load-node.js';
import { sliceExamples } from '../src/data/split.js';
import { buildVocabulary, decodeIds, encodeText, textWindows } from '../src/data/text.js';
import { requestNodeGpu } from '../src/node/webgpu.js';
import type { Backend } from '../src/runtime/backend.js';
import { JsBackend } from '../src/runtime/backends/js.js';
import { WasmBackend } from '../src/runtime/backends/wasm.js';
import { WebGpuBackend } from '../src/runtime/backends/webgpu.js';
import { compileGraph, type Graph } from '../src/runtime/graph.js';
import { initParams } from '../src/runtime/params.js';
import { epochOrder } from '../src/runtime/rng.js';
import { sampleId } from '../src/runtime/sampling.js';
import { relErr } from './support/compare.js';
import { tessera } from './support/cli.js';

const CI = process.env.CI === 'true' || process.env.CI === '1';
const dir = mkdtempSync(join(tmpdir(), 'tessera-text-'));
const corpus = join(process.cwd(), 'test/fixtures/text/rhymes.txt');

/** A 1-block pre-norm causal transformer over windows of 12 characters. */
const MODEL = (backend: string, epochs = 1, lr = 0.01) => `name: tiny-transformer
seed: 5
input_shape: [12]
layers:
  - {type: embedding, name: tokens, input_dim: 20, output_dim: 16}
  - {type: position_embedding, name: embed, sequence_length: 12}
  - {type: layer_normalization, name: norm1}
  - {type: multi_head_attention, name: attn, num_heads: 2, key_dim: 8, use_causal_mask: true, dropout: 0.1}
  - {type: add, name: res1, inputs: [embed, attn]}
  - {type: layer_normalization, name: norm2}
  - {type: dense, name: mlp1, units: 32, activation: gelu}
  - {type: dense, name: mlp2, units: 16}
  - {type: add, name: res2, inputs: [res1, mlp2]}
  - {type: dense, name: logits, units: 20}
loss: {type: sparse_categorical_crossentropy}
optimizer: {type: adamw, learning_rate: ${lr}}
training: {epochs: ${epochs}, batch_size: 8}
dataset: {format: text, path: ${corpus}, sequence_length: 12, test_split: 0.1}
backend: ${backend}
`;
const modelFile = join(dir, 'tiny.yaml');
writeFileSync(modelFile, MODEL('wasm', 30));

test('text data: a sorted vocabulary, windows of T ids, targets shifted by one, the test split at the end of the corpus', async () => {
  assert.equal(buildVocabulary('banana'), ['a', 'b', 'n']);
  const ids = encodeText('banana!', ['!', 'a', 'b', 'n'], 'x');
  const w = textWindows(ids, 3, 'x');
  assert.is(w.count, 2); // 7 ids: windows [0,3) and [3,6), each with one more for the last target
  assert.equal(Array.from(new Float32Array(w.images.buffer)), [2, 1, 3, 1, 3, 1]);
  assert.equal(Array.from(w.targets!), [1, 3, 1, 3, 1, 0]);
  assert.is(decodeIds([2, 1, 3], ['!', 'a', 'b', 'n']), 'ban');
  assert.throws(() => encodeText('bananaz', ['a', 'b', 'n'], 'f.txt'), /f\.txt: character "z" \(U\+007A\) at character 6/);
  const spec = await loadModelConfig(modelFile);
  const data = await loadDataset(spec, dir);
  const text = readFileSync(corpus, 'utf8');
  assert.is(data.facts.classes, new Set(text).size);
  assert.is(data.train.count + data.test.count, Math.floor((text.length - 1) / 12));
  assert.is(data.test.count, Math.ceil((data.train.count + data.test.count) * 0.1));
  // The first test window continues the corpus right after the last training window.
  const firstTest = decodeIds(new Float32Array(data.test.images.buffer, data.test.images.byteOffset, 12), data.metadata!.vocabulary!);
  assert.is(firstTest, text.slice(data.train.count * 12, data.train.count * 12 + 12));
});

test('a missing corpus is an error that names the file (and the fortunes package for its folder)', async () => {
  const bad = join(dir, 'missing.yaml');
  writeFileSync(bad, MODEL('wasm').replace(corpus, '/usr/share/games/fortunes-nowhere'));
  const r = await tessera('train', bad);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /fortunes-nowhere: text corpus not found \(install it with: apt-get install fortunes\)/);
  assert.not.match(r.stderr, /    at /);
});

test('models/char-transformer.yaml validates: the graph of 2 pre-norm blocks and its parameter count', async () => {
  const r = await tessera('validate', 'models/char-transformer.yaml');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /434,033 parameters/);
  assert.match(r.stdout, /b2_res1\s+add\s+\(None, 64, 128\)\s+0\s+b1_out, b2_attn/);
});

const spec = await loadModelConfig(modelFile);
const data = await loadDataset(spec, dir);
spec.data = data.facts;
const graph: Graph = compileGraph(spec, 8);
const SMALL = sliceExamples(data.train, 0, 21);
const STEPS = 3;

async function afterSteps(be: Backend): Promise<Float32Array[]> {
  await be.prepare(graph, initParams(graph));
  await be.setDataset('train', SMALL);
  await be.setOrder(epochOrder(SMALL.count, 5, 0, true));
  await be.trainSteps(0, STEPS, 0); // the third step is partial (5 rows)
  const params = await be.readParams();
  be.dispose();
  return params;
}

const reference = await afterSteps(new JsBackend());

async function matches(be: Backend, tol: number, what: string): Promise<Float32Array[]> {
  const got = await afterSteps(be);
  // The key projection's bias shifts every score of a query alike, so softmax ignores it: its gradient is
  // rounding noise, which Adam scales up to full steps of either sign. Everything else must agree.
  got.forEach((p, i) => graph.params[i]!.name.endsWith('/key/bias') || assert.ok(relErr(p, reference[i]!) < tol, `${what}: ${graph.params[i]!.name} after ${STEPS} steps: relErr ${relErr(p, reference[i]!)}`));
  return got;
}

test(`wasm: ${STEPS} steps (dropout in attention, a partial batch) match js (1e-4); 2 threads give the bits of 1`, async () => {
  const one = await matches(await WasmBackend.create({ relaxed: false, threads: 1 }), 1e-4, 'wasm');
  const two = await matches(await WasmBackend.create({ relaxed: false, threads: 2 }), 1e-4, 'wasm 2 threads');
  one.forEach((p, i) => assert.ok(p.every((v, j) => Object.is(v, two[i]![j])), `${graph.params[i]!.name}: 2 threads differ from 1`));
});

const gpu = await requestNodeGpu();
if (gpu.gpu) {
  // 3e-4: the GPU sums in another order, and Adam's division by √v grows the difference in tiny gradients (1.3e-4 seen).
  test(`webgpu: ${STEPS} steps match js (3e-4)`, async () => {
    await matches(await WebGpuBackend.create(gpu.gpu!, { adapter: gpu.adapter, featureLevel: gpu.featureLevel }), 3e-4, 'webgpu');
  });
} else if (CI) {
  test('a WebGPU adapter is available (required under CI=true)', () => assert.unreachable(`no WebGPU adapter: ${gpu.reason}`));
}

test('sampling: temperature 0 takes the argmax; otherwise the inverse CDF of softmax(logits / T) at u', () => {
  assert.is(sampleId([0.1, 3, 2], 0, 0.99), 1);
  // softmax([0, ln 3]) = [0.25, 0.75]: u below 0.25 draws 0, above draws 1.
  assert.is(sampleId([0, Math.log(3)], 1, 0.2), 0);
  assert.is(sampleId([0, Math.log(3)], 1, 0.3), 1);
});

test('it learns the corpus: training cuts the loss, and greedy generation continues a sentence as the corpus does', async () => {
  const save = join(dir, 'tiny.safetensors');
  const run = await tessera('train', modelFile, '--save', save);
  assert.is(run.code, 0, `${run.stdout}\n${run.stderr}`);
  const losses = [...run.stdout.matchAll(/epoch\s+\d+\/\d+\s+loss ([\d.]+)/g)].map((m) => Number(m[1]));
  assert.ok(losses.length >= 2 && losses.at(-1)! < 0.5 * losses[0]!, `losses ${losses.join(', ')}`);
  // Accuracy counts every position of a window: the printed percentages are fractions of samples × T.
  const accs = [...run.stdout.matchAll(/\bacc ([\d.]+)%/g)].map((m) => Number(m[1]));
  assert.ok(accs.length >= 2 && accs.every((x) => x > 0 && x <= 100), `printed accuracies ${accs.join(', ')}`);
  const g = await tessera('generate', modelFile, '--weights', save, '--prompt', 'the cat sat', '--length', '18', '--temperature', '0');
  assert.is(g.code, 0, g.stderr);
  assert.is(g.stdout.trim(), 'the cat sat on the mat. a dog', `${g.stdout}\n${run.stdout.slice(-600)}`);
  const a = await tessera('generate', modelFile, '--weights', save, '--prompt', 'we ', '--length', '40', '--seed', '3');
  const b = await tessera('generate', modelFile, '--weights', save, '--prompt', 'we ', '--length', '40', '--seed', '3');
  assert.is(a.stdout, b.stdout, 'same seed, same text');
  assert.ok(a.stdout.startsWith('we ') && a.stdout.trim().length === 43, a.stdout);
});

test.run();
