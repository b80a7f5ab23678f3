// Every optimizer trains the same on the js (reference), wasm and webgpu
// backends (a small MLP, a few steps, the fused update ops and, on WebGPU,
// their one-dispatch-per-arena fusion with absent state bound to unused
// buffers), and the learning rate of each step reaches the kernels from the
// schedule even within one trainSteps call (a piecewise schedule that drops
// to 0 after step 0 leaves the parameters as one step left them). With
// clipnorm, global_clipnorm (one norm and one clip dispatch over the grads
// arena on WebGPU) and clipvalue, and L1L2 kernel regularizers, whose
// penalty the reported loss includes (training and evaluation). A wasm run
// with a schedule, momentum state and clipping resumed mid-epoch from a
// checkpoint (the schedule's position is the global step) is bit-identical.
//
// No adapter: under CI=true the webgpu tests fail; otherwise they are skipped loudly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModelConfig } from '../src/config/index.js';
import type { ModelSpec, OptimizerSpec } from '../src/config/types.js';
import { takeExamples } from '../src/data/idx.js';
import { loadMnist } from '../src/data/node.js';
import { requestNodeGpu } from '../src/node/webgpu.js';
import type { Backend, DatasetTensors } from '../src/runtime/backend.js';
import { JsBackend } from '../src/runtime/backends/js.js';
import { WasmBackend } from '../src/runtime/backends/wasm.js';
import { WebGpuBackend } from '../src/runtime/backends/webgpu.js';
import { compileGraph, type Graph } from '../src/runtime/graph.js';
import { initParams } from '../src/runtime/params.js';
import { epochOrder } from '../src/runtime/rng.js';
import { Model } from '../src/runtime/model.js';
import { relErr } from './support/compare.js';

const base = await loadModelConfig('models/mnist.yaml');
const mnist = await loadMnist(base.dataset, 'models');
const data = takeExamples(mnist.train, 96);

function graphWith(optimizer: OptimizerSpec, regularized = false): Graph {
  const s: ModelSpec = structuredClone(base);
  const kernel_regularizer = regularized ? { l1: 1e-4, l2: 1e-3 } : undefined;
  s.layers = [{ type: 'flatten' }, { type: 'dense', units: 24, activation: 'relu', use_bias: true, kernel_regularizer }, { type: 'dense', units: 10, activation: 'linear', use_bias: true, kernel_regularizer }];
  s.optimizer = optimizer;
  return compileGraph(s, 32);
}

const CONFIGS: Record<string, OptimizerSpec> = {
  'sgd': { type: 'sgd', learning_rate: 0.1, momentum: 0, nesterov: false },
  'sgd momentum 0.9 nesterov, cosine schedule': {
    type: 'sgd', momentum: 0.9, nesterov: true,
    learning_rate: { type: 'cosine_decay', initial_learning_rate: 0.05, decay_steps: 3, alpha: 0.1, warmup_target: 0.1, warmup_steps: 1 },
  },
  'adamw': { type: 'adamw', learning_rate: 0.01, weight_decay: 0.004, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 },
  'adam amsgrad, exponential decay': {
    type: 'adam', amsgrad: true, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7,
    learning_rate: { type: 'exponential_decay', initial_learning_rate: 0.01, decay_steps: 1, decay_rate: 0.5, staircase: false },
  },
  'rmsprop': { type: 'rmsprop', learning_rate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false },
  'rmsprop centered, momentum': { type: 'rmsprop', learning_rate: 0.001, rho: 0.9, momentum: 0.5, epsilon: 1e-7, centered: true },
  // Clipping limits below the gradients' norms and values here, so each one acts.
  'sgd momentum, clipnorm, L1L2 kernels': { type: 'sgd', learning_rate: 0.1, momentum: 0.9, nesterov: false, clipnorm: 0.05 },
  'adam, global_clipnorm, L1L2 kernels': { type: 'adam', learning_rate: 0.01, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, global_clipnorm: 0.1 },
  'rmsprop, clipvalue, L1L2 kernels': { type: 'rmsprop', learning_rate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false, clipvalue: 0.001 },
};

async function trained(be: Backend, g: Graph, steps: number, chunks: number[] = [steps]): Promise<Float32Array[]> {
  await be.prepare(g, initParams(g));
  await be.setDataset('train', data as DatasetTensors);
  await be.setOrder(epochOrder(data.count, g.seed, 0, true));
  let at = 0;
  for (const n of chunks) { await be.trainSteps(at, n, at); at += n; }
  const params = await be.readParams();
  be.dispose();
  return params;
}

const near = (a: Float32Array[], b: Float32Array[], what: string, tol = 1e-4) =>
  a.forEach((x, i) => { const e = relErr(x, b[i]!); assert.ok(e < tol, `${what}: parameter ${i}: relErr ${e}`); });

const zeroAfterFirst: OptimizerSpec = { type: 'sgd', momentum: 0, nesterov: false, learning_rate: { type: 'piecewise_constant_decay', boundaries: [0], values: [0.1, 0] } };

type Make = () => Promise<Backend>;
function suite(label: string, make: Make) {
  test(`${label}: every optimizer matches the js backend after 3 steps`, async () => {
    for (const [name, o] of Object.entries(CONFIGS)) {
      const g = graphWith(o, name.includes('L1L2'));
      near(await trained(await make(), g, 3), await trained(new JsBackend(), g, 3), `${label} ${name}`);
    }
  });
  test(`${label}: the kernel regularizers' penalty joins the reported loss (training and evaluation), as Keras reports it`, async () => {
    const o = CONFIGS['sgd']!;
    const [plain, reg] = [graphWith(o), graphWith(o, true)];
    const init = initParams(plain);
    // l1·Σ|W| + l2·ΣW² over both kernels (params 0 and 2), l1 = 1e-4, l2 = 1e-3.
    const penalty = [0, 2].reduce((t, i) => t + init[i]!.reduce((a, v) => a + 1e-4 * Math.abs(v) + 1e-3 * v * v, 0), 0);
    const losses = async (g: Graph) => {
      const be = await make();
      await be.prepare(g, init);
      await be.setDataset('train', data as DatasetTensors);
      await be.setDataset('test', data as DatasetTensors);
      await be.setOrder(epochOrder(data.count, g.seed, 0, false));
      const ev = await be.evaluate('test');
      await be.trainSteps(0, 1, 0);
      const m = await be.readMetrics();
      be.dispose();
      return { eval: ev.loss, train: m.lossSum / m.samples };
    };
    const [a, b] = [await losses(plain), await losses(reg)];
    assert.ok(Math.abs(b.eval - a.eval - penalty) < 1e-5 * penalty + 1e-6, `evaluation: ${b.eval} - ${a.eval} vs penalty ${penalty}`);
    assert.ok(Math.abs(b.train - a.train - penalty) < 1e-5 * penalty + 1e-6, `first training step: ${b.train} - ${a.train} vs penalty ${penalty}`);
  });
  test(`${label}: each step's scheduled rate reaches the kernels within one trainSteps call`, async () => {
    const g = graphWith(zeroAfterFirst);
    const one = await trained(await make(), g, 1);
    const three = await trained(await make(), g, 3);
    const init = initParams(g);
    assert.ok(one.some((p, i) => relErr(p, init[i]!) > 1e-4), 'step 0 (rate 0.1) moves the parameters');
    one.forEach((p, i) => assert.ok(p.every((v, j) => Object.is(v, three[i]![j])), `steps 1 and 2 (rate 0) leave parameter ${i} as it was`));
  });
}

suite('wasm', () => WasmBackend.create());
suite('js', async () => new JsBackend());

test('clipping acts: the same steps without it end elsewhere; global_clipnorm keeps each step within its norm', async () => {
  const clipped = CONFIGS['adam, global_clipnorm, L1L2 kernels']!;
  const { global_clipnorm: _, ...free } = clipped as OptimizerSpec & { global_clipnorm?: number };
  const a = await trained(new JsBackend(), graphWith(clipped, true), 2), b = await trained(new JsBackend(), graphWith(free as OptimizerSpec, true), 2);
  assert.ok(a.some((p, i) => relErr(p, b[i]!) > 1e-3), 'global_clipnorm changes the result');
  const sgdClip: OptimizerSpec = { type: 'sgd', learning_rate: 1, momentum: 0, nesterov: false, global_clipnorm: 0.01 };
  const g = graphWith(sgdClip), init = initParams(g), one = await trained(new JsBackend(), g, 1);
  const moved = Math.sqrt(one.reduce((s, p, i) => s + p.reduce((t, v, j) => t + (v - init[i]![j]!) ** 2, 0), 0));
  assert.ok(Math.abs(moved - 0.01) < 1e-5, `plain SGD at rate 1 moves the parameters by the clipped global norm: ${moved}`);
});

test('wasm: a run with a cosine schedule (warmup), nesterov momentum and global_clipnorm resumed mid-epoch from a checkpoint is bit-identical', async () => {
  const s: ModelSpec = structuredClone(base);
  s.layers = [{ type: 'flatten' }, { type: 'dense', units: 16, activation: 'relu', use_bias: true, kernel_regularizer: { l2: 1e-3 } }, { type: 'dense', units: 10, activation: 'linear', use_bias: true }];
  s.optimizer = {
    type: 'sgd', momentum: 0.9, nesterov: true, global_clipnorm: 0.5,
    learning_rate: { type: 'cosine_decay', initial_learning_rate: 0.01, decay_steps: 6, alpha: 0, warmup_target: 0.05, warmup_steps: 2 },
  };
  s.training.epochs = 3;
  s.training.batch_size = 32;
  const open = async () => Model.create(s, { backend: await WasmBackend.create() });
  const whole = await open();
  const full = await whole.fit(data, { progressEvery: 1 });
  const weights = await whole.getWeights();
  whole.dispose();
  assert.ok(full.epochs[2]!.learningRate < full.epochs[1]!.learningRate, `the epochs' rates follow the schedule: ${full.epochs.map((e) => e.learningRate)}`);
  const first = await open();
  const controller = new AbortController();
  const part = await first.fit(data, { progressEvery: 1, signal: controller.signal, onEvent: (e) => { if (e.type === 'progress' && e.globalStep === 4) controller.abort(); } });
  const bytes = await first.checkpoint(part.state);
  first.dispose();
  const second = await open();
  const point = await second.restoreCheckpoint(bytes, 'mid.safetensors', data.count);
  const rest = await second.fit(data, { progressEvery: 1, resume: point.train });
  rest.epochs.forEach((e, i) => {
    for (const k of ['loss', 'accuracy', 'learningRate'] as const) assert.ok(Object.is(e[k], full.epochs[i]![k]), `epoch ${i + 1} ${k}: ${e[k]} vs ${full.epochs[i]![k]}`);
  });
  const after = await second.getWeights();
  assert.ok(after.every((p, i) => p.every((v, j) => Object.is(v, weights[i]![j]))), 'the final weights are identical');
  second.dispose();
});

test('js: schedule across trainSteps calls equals one call; the rate is the global step\'s', async () => {
  const g = graphWith(CONFIGS['sgd momentum 0.9 nesterov, cosine schedule']!);
  const whole = await trained(new JsBackend(), g, 3);
  const split = await trained(new JsBackend(), g, 3, [1, 2]);
  whole.forEach((p, i) => assert.ok(p.every((v, j) => Object.is(v, split[i]![j])), `parameter ${i} bit-identical`));
});

const r = await requestNodeGpu();
const ci = process.env.CI === 'true' || process.env.CI === '1';
if (!r.gpu) {
  console.error(`\n${'!'.repeat(78)}\n!! optimizers-backends: NO WEBGPU ADAPTER — ${r.reason}\n${'!'.repeat(78)}\n`);
  if (ci) test('a WebGPU adapter is available (required under CI=true)', () => { throw new Error(`no WebGPU adapter: ${r.reason}`); });
  else test.skip('WebGPU optimizers (no adapter; CI=true makes this a failure)', () => {});
} else {
  const gpu = r.gpu;
  suite('webgpu', () => WebGpuBackend.create(gpu, { backendLabel: r.backend, featureLevel: r.featureLevel }));
}

test.run();
