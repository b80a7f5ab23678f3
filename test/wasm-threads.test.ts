// The threaded wasm backend (kernels/as/threads.ts, src/runtime/wasm/threads.ts):
// the same losses, metrics and weights, bit for bit, at 1, 2 and 3 threads
// after an epoch on MNIST subsets (the MLP at its batch of 32, the CNN on a
// few hundred images: its conv, pool and dense splits); the description
// says how many threads and why; a worker that traps mid-chunk or fails to
// start is an error naming it, promptly, and later calls fail with it; the
// MLP step on threads meets at two barriers, its per-example ops split by rows.
import '../src/node/wasm-workers.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModelConfig } from '../src/config/index.js';
import { takeExamples } from '../src/data/idx.js';
import { loadMnist } from '../src/data/node.js';
import { resolveThreads, WasmBackend } from '../src/runtime/backends/wasm.js';
import { Model } from '../src/runtime/model.js';
import { TrainingFailedError } from '../src/runtime/train-errors.js';
import { decodeSafetensorsFile } from '../src/runtime/safetensors.js';
import { tesseraWithEnv } from './support/cli.js';

const mlp = await loadModelConfig('models/mnist.yaml');
const cnn = await loadModelConfig('models/mnist-cnn.yaml');
const mnist = await loadMnist(mlp.dataset, 'models');

async function trainAt(spec: typeof mlp, threads: number, examples: number) {
  const s = structuredClone(spec);
  s.training.epochs = 1;
  const backend = await WasmBackend.create({ relaxed: 'auto', threads });
  try {
    assert.is(backend.threads, threads);
    const model = await Model.create(s, { backend });
    const r = await model.fit(takeExamples(mnist.train, examples), { test: takeExamples(mnist.test, 300) });
    const evalTest = await model.evaluate(takeExamples(mnist.test, 300));
    return { epoch: { ...r.epochs[0]!, seconds: 0 }, evalTest, params: await backend.readParams() };
  } finally {
    backend.dispose();
  }
}

const sameBits = (a: Float32Array[], b: Float32Array[]) => a.length === b.length && a.every((x, i) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(b[i]!.buffer, b[i]!.byteOffset, b[i]!.byteLength)));

const withOptimizer = (optimizer: typeof mlp.optimizer) => ({ ...structuredClone(mlp), optimizer });
const sgd = withOptimizer({ type: 'sgd', learning_rate: 0.01, momentum: 0.9, nesterov: true });
const adamw = withOptimizer({ type: 'adamw', learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: true, weight_decay: 0.004 });

for (const [name, spec, examples] of [['MLP (batch 32)', mlp, 3000], ['CNN', cnn, 400], ['MLP with SGD (Nesterov momentum)', sgd, 1000], ['MLP with AdamW (amsgrad)', adamw, 1000]] as const) {
  test(`${name}: an epoch at 2 and 3 threads gives the losses, metrics and weights of 1 thread, bit for bit`, async () => {
    const one = await trainAt(spec, 1, examples);
    for (const threads of [2, 3]) {
      const many = await trainAt(spec, threads, examples);
      assert.equal(many.epoch, one.epoch, `${threads} threads: epoch metrics`);
      assert.equal(many.evalTest, one.evalTest, `${threads} threads: evaluation`);
      assert.ok(sameBits(many.params, one.params), `${threads} threads: weights differ from 1 thread`);
    }
    assert.ok(one.epoch.loss > 0 && Number.isFinite(one.epoch.loss));
  });
}

test('the MLP step on threads: two barriers (before the dW matmuls, at the step boundary), every record but the loss reduction split', async () => {
  for (const threads of [2, 3]) {
    const backend = await WasmBackend.create({ relaxed: 'auto', threads });
    const model = await Model.create(structuredClone(mlp), { backend });
    const plan = backend.threadSteps();
    // 14 ops, the transposed-copy refresh and the loss's row reduction, which alone stays on thread 0.
    assert.is(plan.records, 16, `${threads} threads`);
    assert.is(plan.barriers, 2, `${threads} threads: barriers per step`);
    assert.is(plan.split, 15, `${threads} threads: records split`);
    assert.ok(model.graph.forward.length > 0);
    backend.dispose();
  }
});

test('the description says how many threads and why', async () => {
  const two = await WasmBackend.create({ threads: 2, threadsSource: '--threads 2' });
  assert.match(two.description, /2 threads: --threads 2\)/);
  two.dispose();
  const auto = await WasmBackend.create({});
  assert.match(auto.description, /\d+ threads?: \d+ available cores\)/);
  auto.dispose();
  assert.equal(resolveThreads({ threads: 2, customKernels: { relu: {} as never } }, 'simd'), { threads: 1, why: 'threads: 2 asked, but custom kernels run on one thread' });
  assert.equal(resolveThreads({ threads: 1 }, 'simd'), { threads: 1, why: 'threads: 1' });
  assert.throws(() => resolveThreads({ threads: 0 }, 'simd'), /threads must be a whole number >= 1 or 'auto', got 0/);
});

test('a worker that traps mid-chunk: fit fails naming it, promptly, the last good weights are kept, later calls fail too', async () => {
  const s = structuredClone(mlp);
  s.training.epochs = 2;
  const backend = await WasmBackend.create({ threads: 2, threadFault: { worker: 1, step: 70 } });
  const model = await Model.create(s, { backend });
  const t0 = Date.now();
  const err = await model.fit(takeExamples(mnist.train, 2048)).catch((e: unknown) => e);
  assert.ok(err instanceof TrainingFailedError, String(err));
  assert.match(err.message, /wasm thread worker 2 of 2 crashed: .*unreachable/);
  assert.ok(Date.now() - t0 < 60_000, 'the failure took too long to surface');
  assert.is(err.restoredTo.epoch, 1, 'the snapshot before the failing chunk');
  assert.is(err.lastGood.length, model.graph.params.length);
  assert.ok(err.lastGood.every((p) => p.every(Number.isFinite)));
  await assert.not.throws(() => backend.readParams());
  const again = await backend.trainSteps(0, 1, 0).catch((e: Error) => e);
  assert.match(String(again), /wasm thread worker 2 of 2 crashed/);
  backend.dispose();
});

test('a worker that fails to start: create rejects naming it', async () => {
  const err = await WasmBackend.create({ threads: 3, threadFault: { worker: 2, start: true } }).catch((e: Error) => e);
  assert.instance(err, Error);
  assert.match((err as Error).message, /wasm thread worker 3 of 3 failed to start: .*injected start failure/);
});

test('tessera train --threads 2 with a worker that crashes: exit 1 naming it, no stack trace, --save keeps the last good weights', async () => {
  const save = join(mkdtempSync(join(tmpdir(), 'tessera-threads-')), 'crash.safetensors');
  // 1,600 examples: 50 steps per epoch; worker 2 traps at global step 60 (epoch 2).
  const t0 = Date.now();
  const r = await tesseraWithEnv({ TESSERA_TEST_WORKER_CRASH: '1:60' }, 'train', 'models/mnist.yaml', '--backend', 'wasm', '--threads', '2', '--epochs', '2', '--limit', '1600', '--save', save);
  assert.ok(Date.now() - t0 < 120_000, 'the run did not stop promptly');
  assert.is(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /2 threads: --threads 2\)/);
  assert.match(r.stderr, /^training failed in epoch 2 .*: wasm thread worker 2 of 2 crashed: RuntimeError: unreachable/m);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  assert.match(r.stderr, /^saved the last good weights \(epoch \d+, step \d+\) to /m);
  const file = decodeSafetensorsFile(new Uint8Array(readFileSync(save)), save);
  assert.is(file.metadata.status, 'failed');
  assert.ok(Number(file.metadata.steps) >= 50 && Number(file.metadata.steps) <= 60, file.metadata.steps);
});

test('tessera train --threads 2 prints the losses and accuracy of --threads 1', async () => {
  const run = (threads: string) => tesseraWithEnv({}, 'train', 'models/mnist.yaml', '--backend', 'wasm', '--threads', threads, '--epochs', '1', '--limit', '960', '--quiet');
  const [one, two] = [await run('1'), await run('2')];
  assert.is(one.code, 0, one.stderr);
  assert.is(two.code, 0, two.stderr);
  const numbers = (out: string) => out.split('\n').filter((l) => /^(epoch|test) /.test(l)).map((l) => l.replace(/\s+[\d.]+ s$/, ''));
  assert.ok(numbers(one.stdout).length === 2, one.stdout);
  assert.equal(numbers(two.stdout), numbers(one.stdout));
});

test('tessera train: a worker that fails to start is a one-line error naming it', async () => {
  const r = await tesseraWithEnv({ TESSERA_TEST_WORKER_FAIL_START: '1' }, 'train', 'models/mnist.yaml', '--backend', 'wasm', '--threads', '2', '--epochs', '1', '--limit', '64', '--quiet');
  assert.is(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /wasm thread worker 2 of 2 failed to start: .*injected start failure/);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
});

test.run();
