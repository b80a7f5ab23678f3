// The trainer on the js backend and real MNIST subsets: it learns, it is
// reproducible (same seed, same numbers; chunking changes nothing), every
// example is seen once per epoch, bad numbers stop it cleanly with the last
// good parameters restored, and its events are well-formed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModelConfig } from '../src/config/index.js';
import type { ModelSpec } from '../src/config/types.js';
import { loadMnist } from '../src/data/node.js';
import { takeExamples } from '../src/data/idx.js';
import type { Backend, DatasetSlot, DatasetTensors, EvalResult, TrainMetrics } from '../src/runtime/backend.js';
import { JsBackend } from '../src/runtime/backends/js.js';
import { compileGraph, type Graph } from '../src/runtime/graph.js';
import { initParams } from '../src/runtime/params.js';
import { epochOrder } from '../src/runtime/rng.js';
import { evaluate, fit, predict, TrainingDivergedError, type FitOptions, type TrainEvent } from '../src/runtime/trainer.js';

const baseSpec = await loadModelConfig('models/mnist.yaml');
const mnist = await loadMnist(baseSpec.dataset, 'models');


function specWith(change: (s: ModelSpec) => void = () => {}): ModelSpec {
  const s = structuredClone(baseSpec);
  change(s);
  return s;
}

async function jsBackend(graph: Graph): Promise<JsBackend> {
  const b = new JsBackend();
  await b.prepare(graph, initParams(graph));
  return b;
}

function sameBits(a: Float32Array[], b: Float32Array[]): boolean {
  return a.length === b.length && a.every((x, i) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(b[i].buffer, b[i].byteOffset, b[i].byteLength)));
}

const allFinite = (ps: Float32Array[]) => ps.every((p) => p.every((v) => Number.isFinite(v)));

test('one epoch on 4,000 examples: loss falls, test accuracy above 80%', async () => {
  const graph = compileGraph(specWith());
  const backend = await jsBackend(graph);
  const progress: number[] = [];
  const r = await fit(backend, graph, { train: takeExamples(mnist.train, 4000), test: takeExamples(mnist.test, 1000) }, {
    epochs: 1, shuffle: true, seed: graph.seed,
    onEvent: (e) => { if (e.type === 'progress') progress.push(e.loss); },
  });
  assert.ok(progress.length >= 10, `${progress.length} progress events`);
  assert.ok(progress[progress.length - 1] < progress[0] * 0.6, `running loss ${progress[0]} -> ${progress[progress.length - 1]}`);
  assert.ok(r.epochs[0].loss < Math.log(10), `epoch loss ${r.epochs[0].loss}`);
  assert.ok(r.test && r.test.accuracy > 0.8, `test accuracy ${r.test?.accuracy}`);
  assert.is(r.test!.samples, 1000);
  // evaluate() on the resident test set gives the same numbers.
  const again = await evaluate(backend, 'test');
  assert.equal(again, r.test);
});

test('the same seed twice gives identical per-epoch losses and parameters', async () => {
  const run = async () => {
    const graph = compileGraph(specWith());
    const backend = await jsBackend(graph);
    const r = await fit(backend, graph, { train: takeExamples(mnist.train, 1500) }, { epochs: 2, shuffle: true, seed: graph.seed });
    return { losses: r.epochs.map((e) => [e.loss, e.accuracy]), params: await backend.readParams() };
  };
  const a = await run();
  const b = await run();
  assert.equal(a.losses, b.losses);
  assert.ok(sameBits(a.params, b.params));
  // A different seed gives a different run.
  const graph = compileGraph(specWith((s) => { s.seed = 7; }));
  const backend = await jsBackend(graph);
  const c = await fit(backend, graph, { train: takeExamples(mnist.train, 1500) }, { epochs: 2, shuffle: true, seed: 7 });
  assert.not.equal(c.epochs.map((e) => [e.loss, e.accuracy]), a.losses);
});

test('progressEvery does not change the numbers: identical parameters for chunks of 1, 7 and 100 steps', async () => {
  const results: { params: Float32Array[]; epochs: { loss: number; accuracy: number }[] }[] = [];
  for (const progressEvery of [1, 7, 100]) {
    const graph = compileGraph(specWith());
    const backend = await jsBackend(graph);
    const r = await fit(backend, graph, { train: takeExamples(mnist.train, 1000) }, { epochs: 2, shuffle: true, seed: graph.seed, progressEvery });
    results.push({ params: await backend.readParams(), epochs: r.epochs });
  }
  for (const r of results.slice(1)) {
    assert.ok(sameBits(r.params, results[0].params), 'parameters differ between chunkings');
    // Loss sums are added per chunk in float64: equal to the last few bits.
    r.epochs.forEach((e, i) => {
      assert.ok(Math.abs(e.loss - results[0].epochs[i].loss) < 1e-12, `${e.loss} vs ${results[0].epochs[i].loss}`);
      assert.is(e.accuracy, results[0].epochs[i].accuracy);
    });
  }
});

test('a partial last batch: 1,000 examples at batch 32 is 32 steps and exactly 1,000 samples per epoch', async () => {
  const graph = compileGraph(specWith());
  const backend = await jsBackend(graph);
  const events: TrainEvent[] = [];
  const r = await fit(backend, graph, { train: takeExamples(mnist.train, 1000) }, { epochs: 2, shuffle: true, seed: 1, progressEvery: 5, onEvent: (e) => events.push(e) });
  assert.is(r.steps, 64);
  for (const e of r.epochs) assert.is(e.samples, 1000);
  const start = events[0];
  assert.ok(start.type === 'start' && start.stepsPerEpoch === 32 && start.samples === 1000 && start.batchSize === 32);
  const last = events.filter((e) => e.type === 'progress').pop();
  assert.ok(last?.type === 'progress' && last.step === 32 && last.samples === 1000 && last.globalStep === 64);
});

test('events: start, then per epoch epoch-start, progress with rising steps, epoch; then end with the test result', async () => {
  const graph = compileGraph(specWith((s) => { s.training.batch_size = 50; }));
  const backend = await jsBackend(graph);
  const events: TrainEvent[] = [];
  const r = await fit(backend, graph, { train: takeExamples(mnist.train, 620), test: takeExamples(mnist.test, 300) }, { epochs: 3, shuffle: true, seed: 3, progressEvery: 4, onEvent: (e) => events.push(e) });
  assert.is(events[0].type, 'start');
  const end = events[events.length - 1];
  assert.ok(end.type === 'end' && !end.aborted && end.test?.samples === 300 && end.epochs === 3);
  assert.equal(end.type === 'end' && end.test, r.test);
  let epoch = 0, step = 0, globalStep = 0;
  for (const e of events.slice(1, -1)) {
    if (e.type === 'epoch-start') {
      assert.is(e.epoch, epoch + 1);
      assert.is(step, epoch === 0 ? 0 : 13);
      epoch = e.epoch; step = 0;
      assert.is(e.steps, 13);
    } else if (e.type === 'progress') {
      assert.is(e.epoch, epoch);
      assert.ok(e.step > step && e.step <= e.steps && e.step - step <= 4);
      assert.is(e.globalStep - globalStep, e.step - step);
      step = e.step; globalStep = e.globalStep;
      assert.ok(Number.isFinite(e.loss) && e.accuracy >= 0 && e.accuracy <= 1 && e.samplesPerSec > 0 && e.etaSeconds >= 0);
      if (e.step === e.steps) assert.is(e.samples, 620);
    } else if (e.type === 'epoch') {
      assert.is(e.epoch, epoch);
      assert.is(step, 13);
      assert.is(e.samples, 620);
      assert.equal(r.epochs[epoch - 1], { epoch, loss: e.loss, accuracy: e.accuracy, metrics: { accuracy: e.accuracy }, samples: e.samples, seconds: e.seconds, learningRate: 0.001 });
    } else {
      assert.unreachable(`unexpected event ${e.type} in the middle`);
    }
  }
  assert.is(epoch, 3);
  assert.is(globalStep, 39);
});

test('abort: fit stops after the current chunk and reports where', async () => {
  const graph = compileGraph(specWith());
  const backend = await jsBackend(graph);
  const controller = new AbortController();
  const events: TrainEvent[] = [];
  const r = await fit(backend, graph, { train: takeExamples(mnist.train, 1000), test: takeExamples(mnist.test, 100) }, {
    epochs: 3, shuffle: true, seed: 1, progressEvery: 5, signal: controller.signal,
    onEvent: (e) => { events.push(e); if (e.type === 'progress' && e.epoch === 2 && e.step === 10) controller.abort(); },
  });
  assert.ok(r.aborted);
  assert.equal(r.stoppedAt, { epoch: 2, step: 10, steps: 32 });
  assert.is(r.epochs.length, 1);
  assert.is(r.steps, 42);
  assert.is(r.test, undefined);
  const end = events[events.length - 1];
  assert.ok(end.type === 'end' && end.aborted);
});

/** The js backend with a fault: at global step `at` (before it runs) parameter `param` gets a NaN (or `value`). */
class FaultyBackend implements Backend {
  readonly name = 'js' as const;
  readonly description = 'js with an injected fault';
  readonly inner = new JsBackend();
  constructor(private readonly at: number, private readonly param: number, private readonly value = NaN) {}
  prepare(g: Graph, p: Float32Array[]) { return this.inner.prepare(g, p); }
  setDataset(s: DatasetSlot, d: DatasetTensors) { return this.inner.setDataset(s, d); }
  setOrder(o: Uint32Array) { return this.inner.setOrder(o); }
  async trainSteps(firstBatch: number, steps: number, globalStep: number): Promise<void> {
    const k = this.at - globalStep;
    if (k < 0 || k >= steps) return this.inner.trainSteps(firstBatch, steps, globalStep);
    if (k > 0) await this.inner.trainSteps(firstBatch, k, globalStep);
    const params = await this.inner.readParams();
    params[this.param][5] = this.value;
    await this.inner.writeParams(params);
    await this.inner.trainSteps(firstBatch + k, steps - k, globalStep + k);
  }
  readMetrics(): Promise<TrainMetrics> { return this.inner.readMetrics(); }
  evaluate(s: DatasetSlot): Promise<EvalResult> { return this.inner.evaluate(s); }
  predict(i: Uint8Array, n: number) { return this.inner.predict(i, n); }
  readParams() { return this.inner.readParams(); }
  writeParams(p: Float32Array[]) { return this.inner.writeParams(p); }
  resetOptimizer() { return this.inner.resetOptimizer(); }
  readBuffers(n: readonly string[]) { return this.inner.readBuffers(n); }
  writeBuffers(b: readonly { name: string; data: Float32Array }[]) { return this.inner.writeBuffers(b); }
  dispose() { this.inner.dispose(); }
}

async function diverge(backend: Backend, graph: Graph, options: Partial<FitOptions> = {}): Promise<TrainingDivergedError> {
  try {
    await fit(backend, graph, { train: takeExamples(mnist.train, 1000) }, { epochs: 3, shuffle: true, seed: 1, ...options });
  } catch (e) {
    if (e instanceof TrainingDivergedError) return e;
    throw e;
  }
  throw new Error('fit did not diverge');
}

test('a NaN loss stops training naming epoch and steps; the last good parameters are restored', async () => {
  const graph = compileGraph(specWith());
  // dense_2/kernel (param 2) gets a NaN before global step 45 = epoch 2, step 13.
  const backend = new FaultyBackend(45, 2);
  await backend.prepare(graph, initParams(graph));
  const e = await diverge(backend, graph, { progressEvery: 5, snapshotSeconds: 0 });
  assert.is(e.what, 'loss');
  assert.is(e.epoch, 2);
  assert.is(e.firstStep, 11);
  assert.is(e.lastStep, 15);
  assert.equal(e.restoredTo, { epoch: 2, step: 10, globalStep: 42 });
  assert.is(e.message, 'training diverged: loss became NaN in epoch 2 within steps 11–15; parameters restored to step 10 (try a lower learning_rate)');
  const restored = await backend.readParams();
  assert.ok(allFinite(restored));
  // Restored = what a clean run had after 42 steps.
  const ref = new JsBackend();
  await ref.prepare(graph, initParams(graph));
  await ref.setDataset('train', takeExamples(mnist.train, 1000));
  await ref.setOrder(epochOrder(1000, 1, 0, true));
  await ref.trainSteps(0, 32, 0);
  await ref.setOrder(epochOrder(1000, 1, 1, true));
  await ref.trainSteps(0, 10, 32);
  assert.ok(sameBits(restored, await ref.readParams()), 'restored parameters are not those after step 42');
  // The model still works after the restore.
  const p = await predict(backend, mnist.test.images.subarray(0, 784 * 3), 3);
  assert.ok(p.probabilities.every((v) => Number.isFinite(v)));
});

test('a NaN weight hidden behind a ReLU (finite loss) is caught by the snapshot check', async () => {
  const graph = compileGraph(specWith());
  // dense_1/kernel (param 0): the ReLU maps the NaN pre-activation to 0, so the loss stays finite.
  const backend = new FaultyBackend(20, 0);
  await backend.prepare(graph, initParams(graph));
  const e = await diverge(backend, graph, { progressEvery: 4, snapshotSeconds: 0 });
  assert.is(e.what, 'parameters');
  assert.is(e.epoch, 1);
  assert.is(e.firstStep, 21);
  assert.is(e.lastStep, 24);
  assert.equal(e.restoredTo, { epoch: 1, step: 20, globalStep: 20 });
  assert.ok(allFinite(await backend.readParams()));
});

test('a huge learning rate overflows to NaN and is stopped; parameters restored to the initial ones', async () => {
  const graph = compileGraph(specWith((s) => { s.optimizer.learning_rate = 1e20; }));
  const backend = await jsBackend(graph);
  const e = await diverge(backend, graph);
  assert.is(e.epoch, 1);
  assert.ok(e.firstStep >= 1 && e.lastStep >= e.firstStep);
  assert.equal(e.restoredTo, { epoch: 1, step: 0, globalStep: 0 });
  assert.match(e.message, /^training diverged: (loss|parameters) became (NaN|-?Infinity) in epoch 1 (at step|within steps) .*; parameters restored to their initial values/);
  assert.ok(sameBits(await backend.readParams(), initParams(graph)));
});

test('fit rejects data of the wrong width and a non-positive epoch count', async () => {
  const graph = compileGraph(specWith());
  const backend = await jsBackend(graph);
  const narrow: DatasetTensors = { images: new Uint8Array(10 * 100), labels: new Uint8Array(10), count: 10, features: 100 };
  await fit(backend, graph, { train: narrow }, { epochs: 1, shuffle: false, seed: 0 }).then(
    () => assert.unreachable('accepted 100 features'),
    (e: Error) => assert.match(e.message, 'training set has 100 features per example, model \'mnist-mlp\' takes 784'),
  );
  await fit(backend, graph, { train: takeExamples(mnist.train, 10) }, { epochs: 0, shuffle: false, seed: 0 }).then(
    () => assert.unreachable('accepted 0 epochs'),
    (e: Error) => assert.match(e.message, 'epochs must be a positive integer'),
  );
});

test('predict: probabilities sum to 1 per image, classes are the argmax', async () => {
  const graph = compileGraph(specWith());
  const backend = await jsBackend(graph);
  const n = 37; // not a multiple of the batch size
  const p = await predict(backend, mnist.test.images.subarray(0, n * 784), n);
  assert.is(p.count, n);
  assert.is(p.numClasses, 10);
  for (let i = 0; i < n; i++) {
    const row = Array.from(p.probabilities.subarray(i * 10, i * 10 + 10));
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.is(p.classes[i], row.indexOf(Math.max(...row)));
  }
});

test.run();
