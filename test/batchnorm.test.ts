// batch_normalization: the reference against hand-computed Keras formulas
// (training, moving statistics, inference, and the textbook backward), its
// gradients by central differences in float64 at awkward shapes (channels
// not a multiple of 4, batch 1, after a conv and after a dense layer, with
// and without scale/center) op by op and for whole compiled models, the
// graph it lowers to, and its config errors. Backends: batchnorm-train.test.ts.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LayerSpec, ModelSpec } from '../src/config/types.js';
import { validateModelConfig } from '../src/config/validate.js';
import { batchNormBackward, batchNormInference, batchNormTrain, STAT } from '../src/ops/batch-norm-reference.js';
import { defOf } from '../src/ops/index.js';
import type { RefEnv } from '../src/ops/types.js';
import { compileGraph, type Graph } from '../src/runtime/graph.js';
import { initParams } from '../src/runtime/params.js';
import { tessera } from './support/cli.js';

/** The reference is plain loops: on Float64Arrays it computes in float64. */
const f64 = (a: Float64Array) => a as unknown as Float32Array;

function randoms(n: number, seed: number, scale = 1, offset = 0): Float64Array {
  let s = seed >>> 0;
  return Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * scale + offset;
  });
}

const close = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

test('training: batch mean and biased variance per channel, Keras\'s moving-statistics update; inference: the moving statistics', () => {
  // rows 2, positions 2, channels 2: channel 0 holds 1, 3, 5, 7 (mean 4, var 5), channel 1 holds 2, 2, 2, 6 (mean 3, var 3).
  const x = new Float64Array([1, 2, 3, 2, 5, 2, 7, 6]);
  const gamma = new Float64Array([2, 0.5]), beta = new Float64Array([0.1, -1]);
  const mm = new Float64Array([0, 0]), mv = new Float64Array([1, 1]);
  const stats = new Float64Array(12), y = new Float64Array(8);
  batchNormTrain(f64(x), f64(gamma), f64(beta), f64(mm), f64(mv), f64(stats), f64(y), 2, 4, 2, 0.001, 0.99);
  const mean = [4, 3], variance = [5, 3];
  x.forEach((v, i) => {
    const c = i % 2;
    assert.ok(close(y[i]!, gamma[c]! * (v - mean[c]!) / Math.sqrt(variance[c]! + 0.001) + beta[c]!), `y[${i}] = ${y[i]}`);
  });
  // moving = moving·0.99 + batch·0.01 (Keras 3: the biased batch variance)
  assert.ok(close(mm[0]!, 0.04) && close(mm[1]!, 0.03), `moving_mean ${mm}`);
  assert.ok(close(mv[0]!, 0.99 + 0.05) && close(mv[1]!, 0.99 + 0.03), `moving_variance ${mv}`);
  assert.ok(close(stats[STAT.mean * 2]!, 4) && close(stats[STAT.invstd * 2 + 1]!, 1 / Math.sqrt(3.001)));

  // Inference: the same x through the moving statistics, whatever the batch's own are.
  const yi = new Float64Array(8);
  batchNormInference(f64(x), f64(gamma), f64(beta), f64(mm), f64(mv), f64(stats), f64(yi), 2, 4, 2, 0.001);
  x.forEach((v, i) => {
    const c = i % 2;
    assert.ok(close(yi[i]!, gamma[c]! * (v - mm[c]!) / Math.sqrt(mv[c]! + 0.001) + beta[c]!), `inference y[${i}] = ${yi[i]}`);
  });
  // Only the first row: inference of a row does not depend on the others.
  const y1 = new Float64Array(4);
  batchNormInference(f64(x.slice(0, 4)), f64(gamma), f64(beta), f64(mm), f64(mv), f64(new Float64Array(12)), f64(y1), 1, 4, 2, 0.001);
  for (let i = 0; i < 4; i++) assert.ok(close(y1[i]!, yi[i]!));

  // Without scale and center: γ = 1, β = 0.
  const y0 = new Float64Array(8);
  batchNormTrain(f64(x), null, null, f64(new Float64Array(2)), f64(new Float64Array([1, 1])), f64(new Float64Array(12)), f64(y0), 2, 4, 2, 0.001, 0.99);
  x.forEach((v, i) => assert.ok(close(y0[i]!, (v - mean[i % 2]!) / Math.sqrt(variance[i % 2]! + 0.001))));
});

test('backward: dγ, dβ and dx match the textbook derivation through dvar and dmean', () => {
  const [B, P, C] = [3, 4, 5];
  const n = B * P, F = P * C;
  const x = randoms(B * F, 7, 2, 0.3), dy = randoms(B * F, 8), gamma = randoms(C, 9, 1.5), beta = randoms(C, 10);
  const stats = new Float64Array(6 * C), y = new Float64Array(B * F);
  batchNormTrain(f64(x), f64(gamma), f64(beta), f64(new Float64Array(C)), f64(new Float64Array(C).fill(1)), f64(stats), f64(y), B, F, C, 0.001, 0.99);
  const dx = new Float64Array(B * F), dg = new Float64Array(C), db = new Float64Array(C);
  batchNormBackward(f64(dy), f64(x), f64(stats), f64(dx), f64(dg), f64(db), B, F, C);
  for (let c = 0; c < C; c++) {
    const idx = Array.from({ length: n }, (_, p) => p * C + c);
    const mu = idx.reduce((s, i) => s + x[i]!, 0) / n;
    const v = idx.reduce((s, i) => s + (x[i]! - mu) ** 2, 0) / n;
    const inv = 1 / Math.sqrt(v + 0.001);
    const dxhat = idx.map((i) => dy[i]! * gamma[c]!);
    const dvar = idx.reduce((s, i, k) => s + dxhat[k]! * (x[i]! - mu) * -0.5 * inv ** 3, 0);
    const dmu = idx.reduce((s, i, k) => s - dxhat[k]! * inv + dvar * -2 * (x[i]! - mu) / n, 0);
    assert.ok(close(db[c]!, idx.reduce((s, i) => s + dy[i]!, 0)), `dbeta[${c}]`);
    assert.ok(close(dg[c]!, idx.reduce((s, i) => s + dy[i]! * (x[i]! - mu) * inv, 0)), `dgamma[${c}]`);
    idx.forEach((i, k) => assert.ok(close(dx[i]!, dxhat[k]! * inv + dvar * 2 * (x[i]! - mu) / n + dmu / n, 1e-8), `dx[${i}]: ${dx[i]}`));
  }
});

/** max |analytic − numeric| / max |numeric| of L = Σ w·y by central differences in float64. */
function opGradientError(B: number, P: number, C: number, scale: boolean, center: boolean, seed: number): number {
  const F = P * C;
  const x = randoms(B * F, seed, 2, 0.5), w = randoms(B * F, seed + 1);
  const gamma = scale ? randoms(C, seed + 2, 1.5) : null, beta = center ? randoms(C, seed + 3) : null;
  const forward = () => {
    const y = new Float64Array(B * F);
    batchNormTrain(f64(x), gamma && f64(gamma), beta && f64(beta), f64(new Float64Array(C)), f64(new Float64Array(C).fill(1)), f64(new Float64Array(6 * C)), f64(y), B, F, C, 0.001, 0.99);
    return y.reduce((s, v, i) => s + v * w[i]!, 0);
  };
  const stats = new Float64Array(6 * C);
  batchNormTrain(f64(x), gamma && f64(gamma), beta && f64(beta), f64(new Float64Array(C)), f64(new Float64Array(C).fill(1)), f64(stats), f64(new Float64Array(B * F)), B, F, C, 0.001, 0.99);
  const dx = new Float64Array(B * F), dg = new Float64Array(C), db = new Float64Array(C);
  batchNormBackward(f64(w), f64(x), f64(stats), f64(dx), gamma && f64(dg), beta && f64(db), B, F, C);
  let worst = 0;
  for (const [v, g] of [[x, dx], [gamma, dg], [beta, db]] as const) {
    if (!v) continue;
    const numeric = Array.from(v, (_, i) => {
      const keep = v[i]!, h = 1e-6 * Math.max(1, Math.abs(keep));
      v[i] = keep + h; const lp = forward();
      v[i] = keep - h; const lm = forward();
      v[i] = keep;
      return (lp - lm) / (2 * h);
    });
    const scaleOf = Math.max(1e-12, ...numeric.map(Math.abs));
    numeric.forEach((d, i) => { worst = Math.max(worst, Math.abs(d - g[i]!) / scaleOf); });
  }
  return worst;
}

test('op gradients by central differences: after a conv (P > 1), after a dense layer (P = 1), batch 1, odd channels, no scale/center', () => {
  const cases: [number, number, number, boolean, boolean][] = [
    [3, 5, 7, true, true], [1, 9, 6, true, true], [4, 1, 10, true, true], [2, 1, 3, true, true], [2, 6, 5, false, true], [3, 2, 1, true, false], [2, 3, 2, false, false],
  ];
  cases.forEach(([B, P, C, scale, center], k) => {
    const err = opGradientError(B, P, C, scale, center, 100 + 10 * k);
    assert.ok(err < 1e-6, `${B}×${P}×${C} scale ${scale} center ${center}: relative error ${err}`);
  });
});

function modelSpec(layers: LayerSpec[], inputShape: number[]): ModelSpec {
  return {
    name: 'bn', seed: 3, input_shape: inputShape, layers,
    loss: { type: 'sparse_categorical_crossentropy', from_logits: true },
    optimizer: { type: 'adam', learning_rate: 1e-3, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 },
    metrics: ['accuracy'], training: { epochs: 1, batch_size: 3, shuffle: false },
    dataset: { name: 'mnist' }, backend: 'js',
  } as unknown as ModelSpec;
}

const bn = (extra: Record<string, unknown> = {}) => ({ type: 'batch_normalization', axis: -1, momentum: 0.99, epsilon: 0.001, center: true, scale: true, ...extra }) as LayerSpec;

/** One training step of the graph's forward and backward ops, by their references, on float64 buffers (conv rounds to f32). */
function step64(graph: Graph, params: Float64Array[], x: Float64Array, labels: Uint32Array, rows: number): { loss: number; bufs: Map<string, Float64Array> } {
  const bufs = new Map<string, Float64Array>();
  for (const b of graph.buffers) bufs.set(b.name, new Float64Array(b.perRow ? b.floats * graph.batchSize : b.floats));
  graph.params.forEach((p, i) => bufs.set(p.name, params[i]!.slice()));
  bufs.get('input')!.set(x);
  let loss = NaN;
  const env: RefEnv = {
    buf: (n) => f64(bufs.get(n)!), rows, step: 0, seed: graph.seed, labels, optimizer: graph.optimizer,
    addMetrics: (lossSum) => { loss = lossSum / rows; }, addMetric: () => {},
  };
  for (const op of [...graph.forward, ...graph.backward]) if (op.kind !== 'gather') defOf(op).reference(op, env);
  return { loss, bufs };
}

function modelGradientError(layers: LayerSpec[], inputShape: number[], rows: number, seed: number, f32Rounding: boolean): { worst: number; graph: Graph } {
  const graph = compileGraph(modelSpec(layers, inputShape), 3);
  // Away from the initial values (γ = 1, β = 0 would hide a swapped use); moving statistics as initialised.
  const params = initParams(graph).map((p, i) => {
    const noise = randoms(p.length, seed + 31 * i, 0.2);
    return graph.params[i]!.trainable ? Float64Array.from(p, (v, j) => v + noise[j]!) : Float64Array.from(p);
  });
  const x = randoms(rows * graph.inputFeatures, seed, 0.5, 0.5);
  const labels = Uint32Array.from({ length: rows }, (_, i) => (i * 3 + 1) % 10);
  const { bufs } = step64(graph, params, x, labels, rows);
  let worst = 0;
  graph.params.forEach((p, i) => {
    if (!p.trainable) return;
    const analytic = bufs.get(p.grad)!;
    const central = (j: number, h: number) => {
      const keep = params[i]![j]!;
      params[i]![j] = keep + h; const lp = step64(graph, params, x, labels, rows).loss;
      params[i]![j] = keep - h; const lm = step64(graph, params, x, labels, rows).loss;
      params[i]![j] = keep;
      return (lp - lm) / (2 * h);
    };
    // The conv reference rounds its outputs to f32 (as the kernels do): for
    // models with a conv, a step far above f32 rounding (5e-4; ~1e-4 of
    // noise in the difference). An element whose difference changes with
    // the step straddles a ReLU kink: counted, and more than 5% fail.
    // Every element of small parameters, ~150 spread over the dense kernels.
    const stride = Math.max(1, Math.floor(p.size / 150));
    const at = Array.from({ length: Math.ceil(p.size / stride) }, (_, k) => k * stride);
    const numeric = at.map((j) => central(j, f32Rounding ? 5e-4 : 1e-6));
    const scale = Math.max(0.05, ...numeric.map(Math.abs));
    let kinks = 0;
    numeric.forEach((d, k) => {
      const j = at[k]!;
      if (f32Rounding && Math.abs(central(j, 1e-3) - d) > 2e-3 * scale) { kinks++; return; }
      // Relative to the parameter's largest gradient, floored at 0.05.
      worst = Math.max(worst, Math.abs(d - analytic[j]!) / scale);
    });
    assert.ok(kinks <= 0.05 * numeric.length, `${p.name}: ${kinks} of ${numeric.length} elements straddle a kink`);
  });
  return { worst, graph };
}

test('whole models by central differences: batch norm on the input, after a relu conv, after a relu dense layer; batch 3 and batch 1', () => {
  const conv: LayerSpec[] = [
    bn({ center: false }),
    { type: 'conv2d', filters: 3, kernel_size: 5, strides: 4, padding: 'valid', dilation_rate: 1, activation: 'relu', use_bias: true } as LayerSpec,
    bn(),
    { type: 'flatten' },
    { type: 'dense', units: 10, activation: 'linear', use_bias: true },
  ];
  const dense: LayerSpec[] = [
    { type: 'flatten' },
    { type: 'dense', units: 5, activation: 'relu', use_bias: true },
    bn({ scale: false }),
    { type: 'dense', units: 10, activation: 'linear', use_bias: true },
  ];
  // Bounds: float64 throughout for the dense model; the conv's f32 rounding for the other (a wrong term gives errors of 1e-1 and more).
  for (const [layers, shape, label, bound] of [[conv, [28, 28, 1], 'conv', 5e-3], [dense, [28, 28], 'dense', 1e-6]] as const) {
    for (const rows of [3, 1]) {
      const { worst, graph } = modelGradientError(layers as LayerSpec[], [...shape], rows, rows * 11, label === 'conv');
      assert.ok(worst < bound, `${label}, ${rows} rows: relative error ${worst}`);
      // Batch norm on the input computes dγ, dβ but no dx (nothing below needs it).
      if (label === 'conv') assert.equal(graph.backward.filter((o) => o.kind === 'batch_norm_backward').map((o) => (o as { dx: string | null }).dx === null), [false, true]);
    }
  }
});

test('lowering: batch_norm_train in training, batch_norm_inference in its place for inference; moving statistics are non-trainable weights without gradients or Adam', () => {
  const g = compileGraph(modelSpec([
    { type: 'conv2d', filters: 4, kernel_size: 3, strides: 1, padding: 'valid', dilation_rate: 1, activation: 'relu', use_bias: true } as LayerSpec,
    bn(), { type: 'flatten' }, { type: 'dense', units: 10, activation: 'linear', use_bias: true },
  ], [28, 28, 1]), 8);
  assert.equal(g.forward.map((o) => o.kind), ['gather', 'conv2d_forward', 'batch_norm_train', 'dense_forward', 'softmax_xent']);
  assert.equal(g.inference.map((o) => o.kind), ['gather', 'conv2d_forward', 'batch_norm_inference', 'dense_forward', 'softmax_xent']);
  assert.equal(g.params.map((p) => [p.name, p.shape, p.trainable]), [
    ['conv2d_1/kernel', [3, 3, 1, 4], true], ['conv2d_1/bias', [4], true],
    ['batch_normalization_1/gamma', [4], true], ['batch_normalization_1/beta', [4], true],
    ['batch_normalization_1/moving_mean', [4], false], ['batch_normalization_1/moving_variance', [4], false],
    ['dense_1/kernel', [2704, 10], true], ['dense_1/bias', [10], true],
  ]);
  assert.equal(initParams(g).slice(2, 6).map((p) => [...p]), [[1, 1, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1]]);
  assert.equal(g.update.map((o) => (o as { param: string }).param).filter((n) => n.includes('batch_normalization')), ['batch_normalization_1/gamma', 'batch_normalization_1/beta']);
  const kinds = new Map(g.buffers.map((b) => [b.name, b.kind]));
  assert.is(kinds.get('batch_normalization_1/moving_mean'), 'moving_stat');
  assert.is(kinds.get('batch_normalization_1/batch_stats'), 'batch_stat');
  assert.not.ok(kinds.has('batch_normalization_1/moving_mean:grad') || kinds.has('batch_normalization_1/moving_mean:m'));
  assert.is(g.totalParams, 36 + 4 + 16 + 27_050);
  assert.is(g.trainableParams, g.totalParams - 8);
  // The ReLU of the conv is applied by an explicit relu_backward on batch norm's dx.
  assert.equal(g.backward.map((o) => o.kind), ['dense_backward_weights', 'dense_backward_input', 'batch_norm_backward', 'relu_backward', 'conv2d_backward_weights']);
});

const yaml = (layer: string) => `name: bn
seed: 1
input_shape: [28, 28, 1]
layers:
  - type: conv2d
    filters: 8
    kernel_size: 3
${layer}
  - type: flatten
  - type: dense
    units: 10
loss: {type: sparse_categorical_crossentropy, from_logits: true}
optimizer: {type: adam}
training: {epochs: 1, batch_size: 32}
dataset: {name: mnist}
`;

test('config: Keras defaults; Param # counts the moving statistics; an axis other than the channels and a momentum above 1 are errors at their line', () => {
  const ok = validateModelConfig(yaml('  - type: batch_normalization'), 'bn.yaml');
  assert.ok(ok.ok, JSON.stringify(!ok.ok && ok.errors));
  if (ok.ok) {
    assert.equal(ok.spec.layers[1], { type: 'batch_normalization', axis: -1, momentum: 0.99, epsilon: 0.001, center: true, scale: true });
    assert.is(ok.layers[1]!.params, 32);
    assert.is(ok.layers[1]!.trainableParams, 16);
  }
  assert.ok(validateModelConfig(yaml('  - type: batch_normalization\n    axis: 3'), 'bn.yaml').ok, 'axis 3 is the last axis of a 4-D batch');
  const axis = validateModelConfig(yaml('  - type: batch_normalization\n    axis: 1'), 'bn.yaml');
  assert.not.ok(axis.ok);
  if (!axis.ok) {
    assert.equal([axis.errors[0]!.line, axis.errors[0]!.column], [9, 11]);
    assert.match(axis.errors[0]!.message, /axis 1 is not the channel axis.*input shape \[26, 26, 8\]/);
  }
  const momentum = validateModelConfig(yaml('  - type: batch_normalization\n    momentum: 1.5'), 'bn.yaml');
  assert.not.ok(momentum.ok);
  if (!momentum.ok) assert.is(momentum.errors[0]!.line, 9);
});

test('tessera validate models/mnist-cnn-bn.yaml: Keras\'s totals, with the trainable and non-trainable split', async () => {
  const run = await tessera('validate', 'models/mnist-cnn-bn.yaml');
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, /batch_normalization_1\s+batch_normalization\s+\(None, 26, 26, 32\)\s+128/);
  assert.match(run.stdout, /Total params: 35,210\n\s+Trainable params: 35,018\n\s+Non-trainable params: 192/);
});

test.run();
