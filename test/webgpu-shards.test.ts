// Datasets split into shards on the webgpu backend (larger than one storage
// binding; here forced small with the shardBytes option): the same seed
// trains to the same losses as one unsharded buffer (bit for bit: gathering
// is a copy) and as the wasm backend (up to float summation order), on
// uint8 MNIST rows and on float32 features with regression targets.
//
// No adapter: under CI=true the suite fails; otherwise it is skipped loudly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Backend, DatasetTensors } from '../src/runtime/backend.js';
import { WasmBackend } from '../src/runtime/backends/wasm.js';
import { WebGpuBackend } from '../src/runtime/backends/webgpu.js';
import { Model } from '../src/runtime/model.js';
import { requestNodeGpu } from '../src/node/webgpu.js';
import { loadMnist } from '../src/data/node.js';
import { sliceExamples } from '../src/data/split.js';
import { examplesPerShard, planShards } from '../src/runtime/webgpu/datasets.js';
import { gatherOp } from '../src/ops/gather.js';
import type { DataFacts } from '../src/data/types.js';
import type { GpuEnv } from '../src/ops/types.js';
import { tesseraWithEnv } from './support/cli.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('planShards: whole consecutive examples, the last shard partial; examplesPerShard counts the widest buffer', () => {
  assert.equal(planShards(10, 4), [{ first: 0, count: 4 }, { first: 4, count: 4 }, { first: 8, count: 2 }]);
  assert.equal(planShards(8, 4), [{ first: 0, count: 4 }, { first: 4, count: 4 }]);
  assert.equal(planShards(0, 4), [{ first: 0, count: 0 }]);
  assert.is(examplesPerShard(78_403, 784, 0, 'train'), 100); // rounded down to whole 4-byte words, then whole examples
  assert.is(examplesPerShard(1000, 12, 40, 'train'), 25); // 10 targets of 4 bytes are the widest part of an example
  assert.is(examplesPerShard(2 ** 27, 1, 0, 'train'), 2 ** 27);
  assert.throws(() => examplesPerShard(700, 784, 0, 'train'), (e: Error & { isUserError?: boolean }) => /^the train set's examples are 784 bytes each, more than one WebGPU storage binding holds \(700 bytes\)$/.test(e.message) && e.isUserError === true);
});

test('a custom gather kernel on a sharded set is refused in words (it reads one buffer)', async () => {
  const b = { buffer: {} as GPUBuffer };
  const env = {
    B: 4, dataset: () => ({ images: b, labels: b, order: b, label: 'train ordered shard 1/3', shard: { first: 0, count: 10, index: 0, of: 3 } }),
    range: () => b, labels: () => b, custom: async () => { throw new Error('not reached'); },
  } as unknown as GpuEnv;
  try {
    await gatherOp.webgpu.dispatches({ kind: 'gather', layer: 'input', x: 'input', features: 4 }, env);
    assert.unreachable('refused');
  } catch (e) {
    assert.match((e as Error).message, /a custom gather kernel reads the dataset from one buffer, but the train ordered shard 1\/3 set is larger than one WebGPU storage binding and split into 3 shards/);
    assert.ok((e as { isUserError?: boolean }).isUserError, 'a user error: no stack trace');
  }
});

const r = await requestNodeGpu();
const ci = process.env.CI === 'true' || process.env.CI === '1';
const made: Backend[] = [];

const MLP = (input: string, units: number, loss: string, metrics: string) => [
  'name: shards', 'seed: 11', `input_shape: ${input}`,
  'layers:', '  - type: flatten', '  - type: dense', '    units: 24', '    activation: relu', '  - type: dropout', '    rate: 0.1',
  '  - type: dense', `    units: ${units}`, '    activation: linear',
  `loss: ${loss}`, `metrics: ${metrics}`, 'optimizer: {type: adam, learning_rate: 0.003}',
  'training: {epochs: 2, batch_size: 32, shuffle: true}', 'dataset: {train_images: a, train_labels: b, test_images: c, test_labels: d}', 'backend: auto', '',
].join('\n');

interface Run { epochLosses: number[]; testLoss: number; probs: Float32Array; trainShards: number; testShards: number }

/** Two epochs on `backend`, the test set evaluated, `predictRows` predicted. */
async function run(backend: Backend, text: string, facts: DataFacts, train: DatasetTensors, testSet: DatasetTensors, predict: Uint8Array, predictRows: number): Promise<Run> {
  made.push(backend);
  const model = await Model.open(Model.plan(text, { data: facts }), { backend });
  const fitted = await model.fit(train, { test: testSet });
  const gpu = backend instanceof WebGpuBackend ? backend : null;
  const out = {
    epochLosses: fitted.epochs.map((e) => e.loss), testLoss: fitted.test!.loss,
    trainShards: gpu?.shardsOf('train') ?? 0, testShards: gpu?.shardsOf('test') ?? 0,
    probs: await model.predict(predict, predictRows),
  };
  return out;
}

const webgpu = (shardBytes?: number) => {
  if (!r.gpu) throw new Error('no adapter');
  return WebGpuBackend.create(r.gpu, { backendLabel: r.backend, featureLevel: r.featureLevel, ...(shardBytes ? { shardBytes } : {}) });
};

const near = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-6, Math.abs(b));

function compare(sharded: Run, whole: Run, wasm: Run, what: string): void {
  // Sharding changes where rows are read from, not what is computed: bit-identical.
  assert.equal(sharded.epochLosses, whole.epochLosses, `${what}: sharded and unsharded webgpu epoch losses`);
  assert.is(sharded.testLoss, whole.testLoss, `${what}: test loss`);
  assert.equal([...sharded.probs], [...whole.probs], `${what}: predictions`);
  // Against wasm: float summation order only (webgpu-backend.test.ts holds one step to 1e-4 of js).
  for (const [i, l] of wasm.epochLosses.entries()) assert.ok(near(sharded.epochLosses[i]!, l) < 1e-4, `${what}: epoch ${i + 1} loss ${sharded.epochLosses[i]} vs wasm ${l}`);
  assert.ok(near(sharded.testLoss, wasm.testLoss) < 1e-4, `${what}: test loss ${sharded.testLoss} vs wasm ${wasm.testLoss}`);
}

if (!r.gpu) {
  console.error(`\n${'!'.repeat(78)}\n!! webgpu-shards: NO WEBGPU ADAPTER — ${r.reason}\n${'!'.repeat(78)}\n`);
  if (ci) test('a WebGPU adapter is available (required under CI=true)', () => { throw new Error(`no WebGPU adapter: ${r.reason}`); });
  else test.skip('WebGPU sharded datasets (no adapter; CI=true makes this a failure)', () => {});
} else {
  const { train, test: testSet } = await loadMnist({ name: 'mnist' }, process.cwd());
  const facts: DataFacts = { source: 'mnist', inputShape: [28, 28], classes: 10, dtype: 'uint8' };

  test('uint8 MNIST rows in 6 shards (train) and 3 (test): the losses and predictions of one buffer, and of wasm', async () => {
    const text = MLP('[28, 28]', 10, '{type: sparse_categorical_crossentropy, from_logits: true}', '[accuracy]');
    // 590 and 290 examples: the last shards' 90 labels end inside a 4-byte word (the upload's tail).
    const tr = sliceExamples(train, 0, 590), te = sliceExamples(testSet, 0, 290);
    const pr = te.images.subarray(0, 250 * 784); // 250 rows: 3 shards of 100, 100 and 50
    const shardBytes = 100 * 784 + 3;
    const sharded = await run(await webgpu(shardBytes), text, facts, tr, te, pr, 250);
    assert.is(sharded.trainShards, 6);
    assert.is(sharded.testShards, 3);
    const whole = await run(await webgpu(), text, facts, tr, te, pr, 250);
    assert.is(whole.trainShards, 1);
    const wasm = await run(await WasmBackend.create({ relaxed: false }), text, facts, tr, te, pr, 250);
    compare(sharded, whole, wasm, 'uint8');
    assert.ok(sharded.epochLosses[1]! < sharded.epochLosses[0]!, `it learns: ${sharded.epochLosses}`);
  });

  test('float32 features with regression targets in 5 shards: gather_f32 and gather_targets across shards, as one buffer and as wasm', async () => {
    const count = 150, F = 3;
    const x = new Float32Array(count * F), t = new Float32Array(count);
    let s = 5;
    const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 4 - 2;
    for (let i = 0; i < count; i++) {
      for (let j = 0; j < F; j++) x[i * F + j] = rnd();
      t[i] = x[i * F]! - 0.5 * x[i * F + 1]! + 0.25 * x[i * F + 2]! * x[i * F + 2]!;
    }
    const all: DatasetTensors = { images: new Uint8Array(x.buffer), labels: new Uint8Array(count), count, features: F, dtype: 'float32', shape: [F], targets: t, targetWidth: 1 };
    const tr = sliceExamples(all, 0, 100), te = sliceExamples(all, 100, 150);
    const floatFacts: DataFacts = { source: 'floats', inputShape: [F], classes: 0, dtype: 'float32', targetWidth: 1 };
    const text = MLP(`[${F}]`, 1, '{type: mean_squared_error}', '[mae]');
    const pr = te.images.subarray(0, 50 * F * 4);
    const shardBytes = 20 * F * 4; // 20 examples a shard: 5 train shards, 3 test shards (20, 20, 10)
    const sharded = await run(await webgpu(shardBytes), text, floatFacts, tr, te, pr, 50);
    assert.is(sharded.trainShards, 5);
    assert.is(sharded.testShards, 3);
    const whole = await run(await webgpu(), text, floatFacts, tr, te, pr, 50);
    const wasm = await run(await WasmBackend.create({ relaxed: false }), text, floatFacts, tr, te, pr, 50);
    compare(sharded, whole, wasm, 'float32');
  });

  test('tessera train: TESSERA_WEBGPU_SHARD_BYTES splits the set and prints the same losses; a shard smaller than an example is one line', async () => {
    // 70 training images of 4×4 in 3 classes (7 shards of 10 at 160 bytes), 12 test images, as IDX files.
    const dir = mkdtempSync(join(tmpdir(), 'tessera-shards-'));
    const idx = (dims: number[], values: number[]) => {
      const head = Buffer.alloc(4 + 4 * dims.length);
      head[2] = 8; head[3] = dims.length;
      dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
      return Buffer.concat([head, Buffer.from(values)]);
    };
    const set = (n: number, salt: number) => {
      const labels = Array.from({ length: n }, (_, i) => (i * 7 + salt) % 3);
      return { labels, pixels: labels.flatMap((c, i) => Array.from({ length: 16 }, (_, k) => (k % 3 === c ? 160 : 40) + ((i * 31 + k * 17 + salt) % 60))) };
    };
    const tr = set(70, 1), te = set(12, 2);
    writeFileSync(join(dir, 'tr-x'), idx([70, 4, 4], tr.pixels));
    writeFileSync(join(dir, 'tr-y'), idx([70], tr.labels));
    writeFileSync(join(dir, 'te-x'), idx([12, 4, 4], te.pixels));
    writeFileSync(join(dir, 'te-y'), idx([12], te.labels));
    writeFileSync(join(dir, 'm.yaml'), MLP('[4, 4]', 3, '{type: sparse_categorical_crossentropy, from_logits: true}', '[accuracy]')
      .replace('training: {epochs: 2, batch_size: 32', 'training: {epochs: 2, batch_size: 8')
      .replace('dataset: {train_images: a, train_labels: b, test_images: c, test_labels: d}', 'dataset: {train_images: tr-x, train_labels: tr-y, test_images: te-x, test_labels: te-y}'));
    try {
      const args = ['train', join(dir, 'm.yaml'), '--backend', 'webgpu', '--quiet'];
      const whole = await tesseraWithEnv({}, ...args);
      const sharded = await tesseraWithEnv({ TESSERA_WEBGPU_SHARD_BYTES: '160' }, ...args);
      const tooSmall = await tesseraWithEnv({ TESSERA_WEBGPU_SHARD_BYTES: '12' }, ...args);
      assert.is(whole.code, 0, whole.stderr);
      assert.is(sharded.code, 0, sharded.stderr);
      const losses = (out: string) => out.split('\n').filter((l) => /^(epoch|test) /.test(l)).map((l) => l.replace(/\s+[\d.]+ m?s$/, ''));
      assert.is(losses(whole.stdout).length, 3, whole.stdout);
      assert.equal(losses(sharded.stdout), losses(whole.stdout));
      // The variable reaches the backend: a shard smaller than one 16-byte example is refused, in one line.
      assert.is(tooSmall.code, 1);
      assert.match(tooSmall.stderr, "the train set's examples are 16 bytes each, more than a shard of shardBytes (TESSERA_WEBGPU_SHARD_BYTES) holds (12 bytes)");
      assert.not.match(tooSmall.stderr, /\n\s+at /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.after(() => { for (const be of made) be.dispose(); });
test.run();
