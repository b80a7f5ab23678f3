// Resuming from a checkpoint gives BIT-IDENTICAL losses to an uninterrupted
// run (the RNG is counter-based, so the position is the step and epoch), on
// js, wasm and webgpu: a small MNIST subset, a model with dropout (the RNG's
// position matters), validation, and callbacks that carry state across
// epochs (reduce_lr_on_plateau lowers the rate, early_stopping keeps best
// weights, model_checkpoint its best value). One run goes through; another
// is stopped mid-epoch by an abort, checkpointed, and continued by a fresh
// model on a fresh backend. Every epoch's loss, accuracy, val_loss and
// learning rate, the test numbers and the final weights must be identical
// (Object.is). A model_checkpoint file from an epoch's end resumes the same
// way. On wasm and webgpu the mid-epoch case runs again with batch
// normalization (moving statistics are weights) and
// SGD with Nesterov momentum (another optimizer's state buffers).
//
// WebGPU: under CI=true a missing adapter fails the webgpu case; otherwise
// it is skipped with a loud note.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModelConfig } from '../src/config/index.js';
import type { ModelSpec } from '../src/config/types.js';
import { takeExamples } from '../src/data/idx.js';
import { loadMnist } from '../src/data/node.js';
import { createNodeBackend } from '../src/node-backends.js';
import { requestNodeGpu } from '../src/node/webgpu.js';
import type { BackendName } from '../src/runtime/backend.js';
import { Model } from '../src/runtime/model.js';
import type { FitResult } from '../src/runtime/trainer.js';
import { stateBufferNames } from '../src/runtime/checkpoint.js';
import { decodeSafetensorsFile } from '../src/runtime/safetensors.js';

const CI = process.env.CI === 'true' || process.env.CI === '1';
const baseSpec = await loadModelConfig('models/mnist.yaml');
const mnist = await loadMnist(baseSpec.dataset, 'models');
const train = takeExamples(mnist.train, 800); // 700 train (22 steps of 32, the last partial), 100 validation
const test_ = takeExamples(mnist.test, 200);
const EPOCHS = 3;
const STOP_AT = 30; // global step: epoch 2, step 8 (chunks of 1 step: progressEvery 1)

function spec(): ModelSpec {
  const s = structuredClone(baseSpec);
  s.layers = [
    { type: 'flatten' },
    { type: 'dense', units: 32, activation: 'relu', use_bias: true },
    { type: 'dropout', rate: 0.3 },
    { type: 'dense', units: 10, activation: 'linear', use_bias: true },
  ];
  s.optimizer.learning_rate = 0.005;
  s.training.epochs = EPOCHS;
  s.training.validation_split = 0.125;
  s.training.callbacks = [
    { type: 'reduce_lr_on_plateau', monitor: 'loss', factor: 0.5, patience: 0, mode: 'auto', min_delta: 10, cooldown: 0, min_lr: 0 },
    { type: 'early_stopping', monitor: 'val_loss', min_delta: 0, patience: 10, mode: 'auto', restore_best_weights: true, start_from_epoch: 0 },
    { type: 'model_checkpoint', filepath: 'mem/{epoch}.safetensors', monitor: 'val_loss', mode: 'auto', save_best_only: false, save_weights_only: false, verbose: 0 },
  ];
  return s;
}

/** The same run with batch normalization (moving statistics are weights) and SGD with Nesterov momentum (its state buffer). */
function bnSgdSpec(): ModelSpec {
  const s = spec();
  s.layers.splice(2, 0, { type: 'batch_normalization' } as ModelSpec['layers'][number]);
  s.optimizer = { type: 'sgd', learning_rate: 0.05, momentum: 0.9, nesterov: true } as ModelSpec['optimizer'];
  return s;
}

let makeSpec = spec;

async function open(kind: BackendName): Promise<Model> {
  const { backend } = await createNodeBackend(kind);
  assert.is(backend.name, kind);
  return Model.create(makeSpec(), { backend });
}

const bits = (a: Float32Array[], b: Float32Array[]) => a.length === b.length && a.every((x, i) => x.length === b[i]!.length && x.every((v, j) => Object.is(v, b[i]![j])));

function sameEpochs(got: FitResult, want: FitResult, what: string): void {
  assert.is(got.epochs.length, want.epochs.length, `${what}: epochs`);
  got.epochs.forEach((e, i) => {
    const w = want.epochs[i]!;
    for (const k of ['loss', 'accuracy', 'valLoss', 'valAccuracy', 'learningRate', 'samples'] as const) {
      assert.ok(Object.is(e[k], w[k]), `${what}: epoch ${i + 1} ${k} ${e[k]} vs uninterrupted ${w[k]}`);
    }
  });
  assert.ok(Object.is(got.test!.loss, want.test!.loss) && got.test!.correct === want.test!.correct, `${what}: test loss ${got.test!.loss} vs ${want.test!.loss}`);
  assert.is(got.steps, want.steps);
}

async function check(kind: BackendName, which: () => ModelSpec = spec): Promise<void> {
  makeSpec = which;
  const files = new Map<string, Uint8Array>();
  const writeFile = async (path: string, bytes: Uint8Array) => { files.set(path, bytes); };

  const whole = await open(kind);
  const full = await whole.fit(train, { test: test_, progressEvery: 1, writeFile });
  const fullWeights = await whole.getWeights();
  whole.dispose();
  assert.is(full.epochs.length, EPOCHS);
  const rates = full.epochs.map((e) => e.learningRate);
  assert.ok(rates[EPOCHS - 1]! < rates[0]!, `the learning rate was lowered on the way: ${rates.join(', ')}`);
  assert.equal([...files.keys()], ['mem/1.safetensors', 'mem/2.safetensors', 'mem/3.safetensors']);

  // Stopped mid-epoch, checkpointed, continued by a fresh model and backend.
  const first = await open(kind);
  const controller = new AbortController();
  const part = await first.fit(train, {
    test: test_, progressEvery: 1, signal: controller.signal,
    onEvent: (e) => { if (e.type === 'progress' && e.globalStep === STOP_AT) controller.abort(); },
  });
  assert.ok(part.aborted);
  assert.equal(part.stoppedAt, { epoch: 2, step: 8, steps: 22 });
  assert.equal([part.state.epoch, part.state.stepInEpoch, part.state.globalStep], [1, 8, STOP_AT]);
  const bytes = await first.checkpoint(part.state);
  first.dispose();
  const saved = [...decodeSafetensorsFile(bytes, 'mid').tensors.keys()].filter((n) => n.startsWith('state/'));
  assert.equal(saved, stateBufferNames(first.graph).map((n) => `state/${n}`));
  assert.ok(saved.length >= first.graph.params.filter((p) => p.trainable).length, `optimizer state saved: ${saved.join(', ')}`);

  const second = await open(kind);
  const point = await second.restoreCheckpoint(bytes, 'mid.safetensors', 700);
  assert.is(point.train.globalStep, STOP_AT);
  const rest = await second.fit(train, { test: test_, progressEvery: 1, resume: point.train });
  sameEpochs(rest, full, `${kind} resumed mid-epoch`);
  assert.ok(bits(await second.getWeights(), fullWeights), `${kind}: the final weights are identical`);
  second.dispose();

  if (which !== spec) return;
  // model_checkpoint's file of epoch 2 (an epoch's end) resumes the same way.
  const third = await open(kind);
  const at2 = await third.restoreCheckpoint(files.get('mem/2.safetensors')!, 'mem/2.safetensors', 700);
  assert.equal([at2.train.epoch, at2.train.stepInEpoch], [2, 0]);
  const fromFile = await third.fit(train, { test: test_, progressEvery: 1, resume: at2.train });
  sameEpochs(fromFile, full, `${kind} resumed from model_checkpoint's epoch 2`);
  third.dispose();
}

test('wasm: a run resumed from a mid-epoch checkpoint gives bit-identical losses, and so does one from model_checkpoint', () => check('wasm'));

test('js: a run resumed from a mid-epoch checkpoint gives bit-identical losses, and so does one from model_checkpoint', () => check('js'));

test('wasm: the same mid-epoch with batch normalization and SGD with Nesterov momentum', () => check('wasm', bnSgdSpec));

const gpu = await requestNodeGpu();
if (gpu.gpu) {
  test('webgpu: a run resumed from a mid-epoch checkpoint gives bit-identical losses, and so does one from model_checkpoint', () => check('webgpu'));
  test('webgpu: the same mid-epoch with batch normalization and SGD with Nesterov momentum', () => check('webgpu', bnSgdSpec));
} else {
  console.error(`\n${'!'.repeat(78)}\n!! resume: NO WEBGPU ADAPTER — ${gpu.reason}\n${'!'.repeat(78)}\n`);
  if (CI) test('a WebGPU adapter is available (required under CI=true)', () => { throw new Error(`no WebGPU adapter: ${gpu.reason}`); });
  else test.skip('webgpu: resume (no adapter; CI=true makes this a failure)', () => {});
}

test.run();
