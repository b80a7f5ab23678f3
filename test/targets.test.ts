// The float-target path of regression losses: a dataset's `targets`
// (targetWidth floats per example) are gathered per batch, through the
// epoch's order in training and in sequence in evaluation, into the graph's
// `targets` buffer, bit-exact and the same on js, wasm and webgpu; a graph
// that reads targets refuses a dataset without them, in words; the
// validation split and takeExamples carry targets along.
//
// No adapter: under CI=true the webgpu case fails; otherwise it is skipped loudly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModelConfig } from '../src/config/index.js';
import type { DatasetTensors } from '../src/data/types.js';
import { takeExamples } from '../src/data/idx.js';
import { splitValidation } from '../src/data/split.js';
import { requestNodeGpu } from '../src/node/webgpu.js';
import { TARGETS_BUFFER, type GatherTargetsOp } from '../src/ops/gather_targets.js';
import type { Backend } from '../src/runtime/backend.js';
import { JsBackend } from '../src/runtime/backends/js.js';
import { WasmBackend } from '../src/runtime/backends/wasm.js';
import { WebGpuBackend } from '../src/runtime/backends/webgpu.js';
import { compileGraph, type Graph, type Op } from '../src/runtime/graph.js';
import { initParams } from '../src/runtime/params.js';
import { epochOrder } from '../src/runtime/rng.js';

const CI = process.env.CI === 'true' || process.env.CI === '1';
const W = 3, COUNT = 37, B = 8;

/** A small MNIST graph whose training and inference also gather W targets per row after gather. */
async function targetGraph(): Promise<Graph> {
  const spec = await loadModelConfig('models/mnist.yaml');
  spec.layers = [{ type: 'flatten' }, { type: 'dense', units: 10, activation: 'linear', use_bias: true }];
  const g = compileGraph(spec, B);
  const op: GatherTargetsOp = { kind: 'gather_targets', layer: 'input', targets: TARGETS_BUFFER, width: W };
  const slot = g.slots.length;
  return {
    ...g,
    slots: [...g.slots, { id: slot, floats: W, perRow: true }],
    buffers: [...g.buffers, { name: TARGETS_BUFFER, kind: 'input', floats: W, perRow: true, slot }],
    forward: [g.forward[0]!, op as Op, ...g.forward.slice(1)],
    inference: [g.inference[0]!, op as Op, ...g.inference.slice(1)],
    targetWidth: W,
  };
}

function dataset(count: number, seed: number): DatasetTensors {
  const images = Uint8Array.from({ length: count * 784 }, (_, i) => (i * 31 + seed) % 256);
  const labels = Uint8Array.from({ length: count }, (_, i) => (i + seed) % 10);
  // Distinct, non-round floats per (example, column): a wrong row or column shows.
  const targets = Float32Array.from({ length: count * W }, (_, i) => Math.fround(seed + i / W + (i % W) * 0.125 + 1 / 3));
  return { images, labels, count, features: 784, targets, targetWidth: W };
}

const read = (be: Backend, name: string) => (be as unknown as { readBuffer(n: string): Float32Array | Promise<Float32Array> }).readBuffer(name);

/** The targets of examples ex (in this order), W floats each. */
const rowsOf = (data: DatasetTensors, examples: number[]) => examples.flatMap((e) => [...data.targets!.subarray(e * W, (e + 1) * W)]);

async function checkBackend(be: Backend): Promise<void> {
  const g = await targetGraph();
  const train = dataset(COUNT, 5), validation = dataset(11, 100);
  await be.prepare(g, initParams(g));
  await be.setDataset('train', train);
  await be.setDataset('validation', validation);
  const order = epochOrder(COUNT, g.seed, 0, true);
  await be.setOrder(order);
  // Steps 0..2: the last one (batch 2) leaves batch 2's rows of the order in the buffer.
  await be.trainSteps(0, 3, 0);
  const got = [...(await read(be, TARGETS_BUFFER))].slice(0, B * W);
  assert.equal(got, rowsOf(train, [...order.subarray(2 * B, 3 * B)]), `${be.name}: training targets follow the order`);
  // The partial last batch (37 = 4·8 + 5): its 5 rows.
  await be.trainSteps(4, 1, 4);
  const last = [...(await read(be, TARGETS_BUFFER))].slice(0, 5 * W);
  assert.equal(last, rowsOf(train, [...order.subarray(4 * B)]), `${be.name}: the partial batch's targets`);
  // Evaluation in sequence: 11 = 8 + 3, so the buffer ends with examples 8, 9, 10.
  await be.evaluate('validation');
  const val = [...(await read(be, TARGETS_BUFFER))].slice(0, 3 * W);
  assert.equal(val, rowsOf(validation, [8, 9, 10]), `${be.name}: evaluation targets in sequence`);
  // predict has no targets and needs none.
  const probs = await be.predict(validation.images, 11);
  assert.is(probs.length, 11 * 10);
  // A dataset without targets is refused in words.
  const { targets: _t, targetWidth: _w, ...noTargets } = dataset(9, 7);
  await be.setDataset('test', noTargets);
  try {
    await be.evaluate('test');
    assert.unreachable(`${be.name}: evaluating a set without targets should throw`);
  } catch (e) {
    assert.match(String(e), 'the test dataset has no float targets, and the loss reads 3 per example');
  }
  be.dispose();
}

test('js: targets gathered through the order, in sequence in evaluation, refused when missing', async () => {
  await checkBackend(new JsBackend());
});

test('wasm: targets gathered as on js', async () => {
  await checkBackend(await WasmBackend.create());
});

const gpu = await requestNodeGpu();
if (gpu.gpu) {
  test('webgpu: targets gathered as on js', async () => {
    await checkBackend(await WebGpuBackend.create(gpu.gpu!, { backendLabel: gpu.backend, featureLevel: gpu.featureLevel }));
  });
} else if (CI) {
  test('a WebGPU adapter is available (required under CI=true)', () => assert.unreachable(`no WebGPU adapter: ${gpu.reason}`));
} else {
  console.error(`\n!! targets: SKIPPED webgpu: no adapter (${gpu.reason}); CI=true makes this a failure\n`);
}

test('splitValidation and takeExamples carry targets with their examples', () => {
  const data = dataset(20, 3);
  const { train, validation } = splitValidation(data, 0.25);
  assert.equal([...train.targets!], [...data.targets!.subarray(0, 15 * W)]);
  assert.equal([...validation.targets!], [...data.targets!.subarray(15 * W)]);
  assert.is(validation.targetWidth, W);
  assert.equal([...takeExamples(data, 4).targets!], [...data.targets!.subarray(0, 4 * W)]);
});

test.run();
