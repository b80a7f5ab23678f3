// The checkpoint format (src/runtime/checkpoint.ts): what a file holds
// (weights, every optimizer-state buffer, callbacks' tensors, the position
// and the run's identity in the metadata), that a weights loader reads its
// weights, and that a checkpoint of another model, optimizer or batch
// sequence is refused with every difference listed, as is a weights file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModelConfig } from '../src/config/index.js';
import type { AdamSpec, ModelSpec } from '../src/config/types.js';
import { takeExamples } from '../src/data/idx.js';
import { loadMnist } from '../src/data/node.js';
import { JsBackend } from '../src/runtime/backends/js.js';
import { CHECKPOINT_FORMAT, floatJson, parseFloatJson, readCheckpoint, stateBufferNames } from '../src/runtime/checkpoint.js';
import { compileGraph } from '../src/runtime/graph.js';
import { Model } from '../src/runtime/model.js';
import { fingerprint } from '../src/runtime/run-identity.js';
import { decodeSafetensorsFile } from '../src/runtime/safetensors.js';

const baseSpec = await loadModelConfig('models/mnist.yaml');
const mnist = await loadMnist(baseSpec.dataset, 'models');
const train = takeExamples(mnist.train, 200);

function spec(change: (s: ModelSpec) => void = () => {}): ModelSpec {
  const s = structuredClone(baseSpec);
  s.layers = [{ type: 'flatten' }, { type: 'dense', units: 16, activation: 'relu', use_bias: true }, { type: 'dense', units: 10, activation: 'linear', use_bias: true }];
  s.training.epochs = 2;
  s.training.callbacks = [{ type: 'early_stopping', monitor: 'loss', min_delta: 0, patience: 5, mode: 'auto', restore_best_weights: true, start_from_epoch: 0 }];
  change(s);
  return s;
}

/** A checkpoint after one epoch and 3 steps of the second, on the js backend. */
async function checkpointOf(s: ModelSpec): Promise<{ bytes: Uint8Array; model: Model }> {
  const model = await Model.create(s, { backend: new JsBackend() });
  const controller = new AbortController();
  const r = await model.fit(train, { progressEvery: 1, signal: controller.signal, onEvent: (e) => { if (e.type === 'progress' && e.globalStep === 10) controller.abort(); } });
  assert.ok(r.aborted);
  return { bytes: await model.checkpoint(r.state, { status: 'test' }), model };
}

const { bytes, model } = await checkpointOf(spec());

test('a checkpoint holds the weights, every state buffer, the callbacks\' tensors, and the position and identity in its metadata', async () => {
  const file = decodeSafetensorsFile(bytes, 'c.safetensors');
  const graph = model.graph;
  const names = [...file.tensors.keys()];
  const state = stateBufferNames(graph);
  assert.equal(state, graph.params.flatMap((p) => p.state), 'Adam m and v of every parameter');
  assert.equal(names, [...graph.params.map((p) => p.name), ...state.map((n) => `state/${n}`), ...graph.params.map((_, j) => `callbacks/0/${j}`)]);
  const [m] = await model.backend.readBuffers([graph.params[0]!.state[0]!]);
  assert.ok(m!.some((v) => v !== 0) && file.tensors.get(`state/${graph.params[0]!.state[0]!}`)!.data.every((v, i) => Object.is(v, m![i])), 'Adam m, exactly');
  const meta = file.metadata;
  assert.is(meta.format, CHECKPOINT_FORMAT);
  assert.is(meta.status, 'test');
  assert.is(meta.backend, 'js');
  assert.equal([meta.model, meta.epoch, meta.step, meta.step_in_epoch], ['mnist-mlp', '1', '10', '3']);
  assert.is(meta.architecture_fingerprint, fingerprint(JSON.parse(meta.architecture!)));
  assert.is(JSON.parse(meta.optimizer!).type, 'adam');
  assert.equal(JSON.parse(meta.training!), { batch_size: 32, seed: 42, shuffle: true, train_examples: 200 });
  assert.equal(JSON.parse(meta.rng!), { kind: 'counter (src/runtime/rng.ts)', seed: 42, global_step: 10, epoch: 1 });
  const train = parseFloatJson(meta.train_state!) as { history: unknown[]; partial: { samples: number } };
  assert.is(train.history.length, 1);
  assert.is(train.partial.samples, 96, 'three steps of 32 into epoch 2');
  // ±Infinity survives the metadata's JSON.
  assert.equal(parseFloatJson(floatJson({ a: -Infinity, b: [Infinity, NaN, 1.5] })), { a: -Infinity, b: [Infinity, NaN, 1.5] });
  // A weights loader takes a checkpoint's weights and skips the rest.
  const other = await Model.create(spec(), { backend: new JsBackend() });
  await other.loadWeights(bytes, 'c.safetensors');
  const [a, b] = [await other.getWeights(), await model.getWeights()];
  assert.ok(a.every((w, i) => w.every((v, j) => Object.is(v, b[i]![j]))));
  other.dispose();
});

/** The refusal for a checkpoint read by a run with `change`d spec (and `examples` training examples). */
function refusal(change: (s: ModelSpec) => void, examples = 200): string {
  const s = spec(change);
  try {
    readCheckpoint(bytes, 'c.safetensors', s, compileGraph(s), examples);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('not refused');
}

test('a checkpoint of another model, optimizer or batch sequence is refused, listing every difference', () => {
  const arch = refusal((s) => { (s.layers[1] as { units: number }).units = 32; s.layers.splice(2, 0, { type: 'dropout', rate: 0.1 }); });
  assert.is(arch, [
    'c.safetensors: checkpoint of a different model, optimizer or data, not resumed (3 differences):',
    '  - layers: 3 in the checkpoint, 4 in this run',
    '  - layers[1].units: 16 in the checkpoint, 32 in this run',
    "  - layers[2]: 'dense' in the checkpoint, 'dropout' in this run",
  ].join('\n'));
  const opt = refusal((s) => { const o = s.optimizer as AdamSpec; o.beta_1 = 0.8; o.epsilon = 1e-8; });
  assert.match(opt, '(2 differences)');
  assert.match(opt, '  - optimizer.beta_1: 0.9 in the checkpoint, 0.8 in this run\n  - optimizer.epsilon: 1e-7 in the checkpoint, 1e-8 in this run');
  assert.match(refusal((s) => { s.optimizer = { type: 'sgd', learning_rate: 0.01, momentum: 0.9, nesterov: false } as ModelSpec['optimizer']; }),
    "(1 difference):\n  - optimizer: 'adam' in the checkpoint, 'sgd' in this run");
  const run = refusal((s) => { s.name = 'other'; s.seed = 7; s.training.batch_size = 64; s.training.shuffle = false; }, 300);
  assert.match(run, "  - model name: 'mnist-mlp' in the checkpoint, 'other' in this run");
  assert.match(run, '  - training.batch_size: 32 in the checkpoint, 64 in this run');
  assert.match(run, '  - seed: 42 in the checkpoint, 7 in this run');
  assert.match(run, '  - training.shuffle: true in the checkpoint, false in this run');
  assert.match(run, '  - training examples: 200 in the checkpoint, 300 in this run (the same --limit and validation_split are needed)');
  assert.match(run, '(5 differences)');
  // A new learning rate is not a different optimizer: it applies from the resumed step.
  const s = spec((x) => { x.optimizer.learning_rate = 0.01; });
  assert.ok(readCheckpoint(bytes, 'c.safetensors', s, compileGraph(s), 200).learningRateChanged);
  assert.not.ok(readCheckpoint(bytes, 'c.safetensors', spec(), compileGraph(spec()), 200).learningRateChanged);
});

test('a weights file is not a checkpoint: refused, saying where checkpoints come from', async () => {
  const weights = await model.saveWeights();
  const s = spec();
  assert.throws(() => readCheckpoint(weights, 'w.safetensors', s, compileGraph(s), 200),
    (e: Error) => e.message === 'w.safetensors: not a resumable checkpoint: it holds weights only (saved by --save or save_weights_only: true), no optimizer state or step; checkpoints come from Ctrl-C during tessera train or a model_checkpoint callback');
});

test.run();
