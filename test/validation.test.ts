// Validation and callbacks in real training (js and wasm backends, small
// MNIST subsets): validation_split holds out the last examples; every epoch
// reports val_loss / val_accuracy from the 'validation' slot; early_stopping
// with restore_best_weights stops early and restores the best epoch, whose
// saved weights evaluate to that epoch's validation numbers; a learning rate
// changed between trainSteps calls reaches the kernels.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModelConfig } from '../src/config/index.js';
import type { ModelSpec } from '../src/config/types.js';
import { takeExamples } from '../src/data/idx.js';
import { loadMnist } from '../src/data/node.js';
import { splitValidation } from '../src/data/split.js';
import type { Backend } from '../src/runtime/backend.js';
import { JsBackend } from '../src/runtime/backends/js.js';
import { WasmBackend } from '../src/runtime/backends/wasm.js';
import { EarlyStopping, type Callback } from '../src/runtime/callbacks/index.js';
import { compileGraph } from '../src/runtime/graph.js';
import { HistoryRecorder } from '../src/runtime/history.js';
import { Model } from '../src/runtime/model.js';
import { initParams } from '../src/runtime/params.js';
import { epochOrder } from '../src/runtime/rng.js';
import { fit, type TrainEvent } from '../src/runtime/trainer.js';

const baseSpec = await loadModelConfig('models/mnist.yaml');
const mnist = await loadMnist(baseSpec.dataset, 'models');

/** A small, fast model that overfits 600 examples within a few epochs (so val_loss turns). */
function smallSpec(change: (s: ModelSpec) => void = () => {}): ModelSpec {
  const s = structuredClone(baseSpec);
  s.layers = [{ type: 'flatten' }, { type: 'dense', units: 32, activation: 'relu', use_bias: true }, { type: 'dense', units: 10, activation: 'linear', use_bias: true }];
  s.optimizer.learning_rate = 0.01;
  s.training.epochs = 20;
  s.backend = 'js';
  change(s);
  return s;
}

const same = (a: Float32Array[], b: Float32Array[]) => a.length === b.length && a.every((x, i) => x.length === b[i]!.length && x.every((v, j) => Object.is(v, b[i]![j])));

test('splitValidation: the last floor-complement of the examples, in order, as Keras', () => {
  const data = takeExamples(mnist.train, 1001);
  const { train, validation } = splitValidation(data, 0.1);
  assert.is(train.count, 900); // floor(1001 · 0.9)
  assert.is(validation.count, 101);
  assert.equal([...validation.labels], [...data.labels.subarray(900, 1001)]);
  assert.equal([...train.labels], [...data.labels.subarray(0, 900)]);
  assert.ok(validation.images.every((v, i) => v === data.images[900 * 784 + i]));
  assert.is(validation.images.length, 101 * 784);
  assert.throws(() => splitValidation(takeExamples(mnist.train, 5), 0.9), /5 training examples are too few to hold out validation_split 0.9: it leaves 0 to train on/);
});

test('Model.fit with validation_split: every epoch has val_loss and val_accuracy over the held-out last examples', async () => {
  const spec = smallSpec((s) => { s.training.validation_split = 0.25; s.training.epochs = 2; });
  const model = await Model.create(spec);
  const train = takeExamples(mnist.train, 800);
  const events: TrainEvent[] = [];
  const r = await model.fit(train, { onEvent: (e) => events.push(e) });
  assert.is(r.epochs.length, 2);
  for (const e of r.epochs) {
    assert.is(e.samples, 600);
    assert.ok(e.valLoss! > 0 && e.valAccuracy! > 0.3, JSON.stringify(e));
    assert.is(e.learningRate, 0.01);
  }
  const epochEvents = events.filter((e) => e.type === 'epoch');
  assert.equal(epochEvents.map((e) => e.type === 'epoch' && e.valLoss), r.epochs.map((e) => e.valLoss));
  // The numbers are those of examples 600..799 evaluated with the final weights.
  const again = await model.evaluate(splitValidation(train, 0.25).validation);
  assert.is(again.samples, 200);
  assert.is(again.loss, r.epochs[1]!.valLoss);
  model.dispose();
});

/** Records each epoch's parameters, after early stopping has looked at the epoch. */
class ParamsAt implements Callback {
  readonly type = 'params_at';
  readonly params: Float32Array[][] = [];
  async onEpochEnd(_: number, __: unknown, c: { readParams(): Promise<Float32Array[]> }) { this.params.push(await c.readParams()); }
}

for (const kind of ['js', 'wasm'] as const) {
  test(`${kind}: early_stopping with restore_best_weights stops early, restores the best epoch, and its saved weights evaluate to that epoch's validation numbers`, async () => {
    const spec = smallSpec((s) => { s.backend = kind; s.training.validation_split = 0.25; });
    const graph = compileGraph(spec);
    const backend: Backend = kind === 'js' ? new JsBackend() : await WasmBackend.create();
    await backend.prepare(graph, initParams(graph));
    const { train, validation } = splitValidation(takeExamples(mnist.train, 800), 0.25);
    const stopping = new EarlyStopping({ type: 'early_stopping', monitor: 'val_loss', min_delta: 0, patience: 2, mode: 'auto', restore_best_weights: true, start_from_epoch: 0 });
    const spy = new ParamsAt();
    const notes: string[] = [];
    const history = new HistoryRecorder(graph.name);
    const r = await fit(backend, graph, { train, validation }, {
      epochs: 20, shuffle: true, seed: 1, callbacks: [stopping, spy],
      onEvent: (e) => { history.on(e); if (e.type === 'note') notes.push(e.message); },
    });
    history.finish(r);
    assert.ok(r.epochs.length < 20, `ran ${r.epochs.length} epochs`);
    const losses = r.epochs.map((e) => e.valLoss!);
    const best = losses.indexOf(Math.min(...losses));
    assert.is(r.epochs.length, best + 1 + 2, `stopped ${r.epochs.length}, best ${best + 1}: ${losses.join(', ')}`);
    assert.ok(r.stoppedEarly && r.stoppedEarly.epoch === r.epochs.length);
    assert.match(r.stoppedEarly!.reason, `val_loss did not improve for 2 epochs (patience 2; best ${losses[best]!.toFixed(4)} at epoch ${best + 1})`);
    assert.ok(notes.some((n) => n.includes(`best epoch, ${best + 1}`)), notes.join('\n'));
    const weights = await backend.readParams();
    assert.ok(same(weights, spy.params[best]!), 'the parameters are those of the best epoch');
    // The history has every finished epoch, and why it stopped.
    const h = history.toJSON();
    assert.equal(h.epoch, r.epochs.map((e) => e.epoch));
    assert.equal(h.history.val_loss, losses);
    assert.is(h.stopped_early?.epoch, r.epochs.length);
    // Saved, loaded into a fresh model: that epoch's validation numbers, exactly.
    const bytes = await (async () => { const m = await Model.open({ spec, graph }, { backend, weights }); return m.saveWeights(); })();
    const fresh = await Model.create(spec, { backend: kind === 'js' ? new JsBackend() : await WasmBackend.create() });
    await fresh.loadWeights(bytes);
    const ev = await fresh.evaluate(validation);
    assert.is(ev.loss, r.epochs[best]!.valLoss);
    assert.is(ev.accuracy, r.epochs[best]!.valAccuracy);
    fresh.dispose();
    backend.dispose();
  });

  test(`${kind}: graph.optimizer.learningRate changed between trainSteps calls reaches the kernels`, async () => {
    const graph = compileGraph(smallSpec());
    const backend: Backend = kind === 'js' ? new JsBackend() : await WasmBackend.create();
    await backend.prepare(graph, initParams(graph));
    const data = takeExamples(mnist.train, 64);
    await backend.setDataset('train', data);
    await backend.setOrder(epochOrder(64, 1, 0, false));
    graph.optimizer.learningRate = 0;
    const before = await backend.readParams();
    await backend.trainSteps(0, 1, 0);
    assert.ok(same(await backend.readParams(), before), 'lr 0: no change');
    graph.optimizer.learningRate = 0.01;
    await backend.trainSteps(1, 1, 1);
    assert.not.ok(same(await backend.readParams(), before), 'lr 0.01: the parameters move');
    backend.dispose();
  });
}

test.run();
