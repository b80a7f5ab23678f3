// Gradient checks: central finite differences in float64 against the
// analytic backward, first op by op (the reference forward kernels run on
// Float64Arrays for the differences; the backward kernels run in f32), then
// for a whole compiled model on a tiny batch with dropout active at a fixed
// step, where the gradients come from the js backend's buffers and the loss
// for the differences from an independent float64 interpreter of graph.forward
// (dropout masks by the RNG's definition, test/support/oracle64.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ref from '../src/runtime/reference/kernels.js';
import { rngKey } from '../src/runtime/rng.js';
import { compileGraph, type Graph } from '../src/runtime/graph.js';
import { initParams } from '../src/runtime/params.js';
import { JsBackend } from '../src/runtime/backends/js.js';
import type { ModelSpec, LayerSpec } from '../src/config/types.js';
import { dropout64, dropoutKeep64, keyBig } from './support/oracle64.js';
import { attentionScores, attentionValues } from '../src/ops/attention-math.js';

/** The reference kernels are plain loops: they run unchanged on float64 arrays. */
const f64 = (a: Float64Array) => a as unknown as Float32Array;

function randoms(n: number, seed: number, scale = 1): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    let u = (s / 2 ** 32) * 2 - 1;
    if (Math.abs(u) < 0.02) u = 0.5; // away from 0: no relu kinks within the difference step
    out[i] = Math.fround(u * scale);
  }
  return out;
}

/** Seeds that are far apart for the LCG (a 32-bit integer hash). */
const scramble = (x: number) => { x = Math.imul(x ^ (x >>> 16), 0x45d9f3b); x = Math.imul(x ^ (x >>> 16), 0x45d9f3b); return (x ^ (x >>> 16)) >>> 0; };

const H = 1e-5;

/** Central differences of loss() with respect to every element of x (x is perturbed in place and restored). */
function numericGrad(x: Float64Array, loss: () => number): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const h = H * Math.max(1, Math.abs(v));
    x[i] = v + h; const lp = loss();
    x[i] = v - h; const lm = loss();
    x[i] = v;
    g[i] = (lp - lm) / (2 * h);
  }
  return g;
}

/** Relative comparison, with a floor of 1e-3 of the largest gradient for components near zero. */
function assertGradClose(analytic: ArrayLike<number>, numeric: Float64Array, what: string, rel = 1e-3): number {
  assert.is(analytic.length, numeric.length, `${what}: length`);
  let scale = 0;
  for (const v of numeric) scale = Math.max(scale, Math.abs(v));
  assert.ok(scale > 0, `${what}: gradient is all zero, the check would be vacuous`);
  let worst = 0;
  for (let i = 0; i < numeric.length; i++) {
    const err = Math.abs(analytic[i] - numeric[i]) / (Math.abs(numeric[i]) + 1e-3 * scale);
    worst = Math.max(worst, err);
    if (!(err <= rel)) assert.unreachable(`${what}[${i}]: analytic ${analytic[i]}, numeric ${numeric[i]} (relative error ${err.toExponential(2)})`);
  }
  return worst;
}

const f32 = (a: Float64Array) => Float32Array.from(a);
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };

test('dense forward: gradients of weights, bias and input (linear and fused relu)', () => {
  let checked = 0;
  for (const [M, K, N] of [[1, 1, 1], [3, 7, 5], [7, 33, 3]]) {
    for (const fusedRelu of [false, true]) {
      // One seed per tensor, scrambled (the LCG maps nearby seeds to nearly equal
      // first values, and equal seeds made X equal W): X, W, b and R all differ.
      const seed = (tensor: number) => scramble(10 * (M + K + N) + tensor);
      const X = randoms(M * K, seed(1)), W = randoms(K * N, seed(2)), b = randoms(N, seed(3)), R = randoms(M * N, seed(4));
      const Y = new Float64Array(M * N);
      // L = Σ R ⊙ dense(X, W, b)
      const loss = () => { ref.denseForward(f64(X), f64(W), f64(b), f64(Y), M, K, N, fusedRelu); return dot(Y, R); };
      loss();
      const Y32 = f32(Y);
      const tag = `${M}x${K}x${N}${fusedRelu ? ' relu' : ''}`;
      // The inputs must exercise the ReLU: some outputs pass (or the check is vacuous), and beyond 1×1×1 some are cut.
      if (fusedRelu) {
        assert.ok(Y32.some((v) => v > 0), `${tag}: every ReLU output is 0, the gradient check would be vacuous (pick other inputs)`);
        if (M * N > 1) assert.ok(Y32.some((v) => v === 0), `${tag}: no ReLU output is cut, the mask is not exercised`);
      }
      // dL/dZ = R (masked by relu when fused)
      const dZ = new Float32Array(M * N);
      if (fusedRelu) ref.reluBackward(f32(R), Y32, dZ, M * N); else dZ.set(R);
      const dW = new Float32Array(K * N), db = new Float32Array(N), dX = new Float32Array(M * K);
      ref.denseBackwardWeights(f32(X), dZ, dW, db, M, K, N);
      ref.denseBackwardInput(dZ, f32(W), dX, null, M, K, N);
      assertGradClose(dW, numericGrad(W, loss), `dW ${tag}`);
      assertGradClose(db, numericGrad(b, loss), `db ${tag}`);
      assertGradClose(dX, numericGrad(X, loss), `dX ${tag}`);
      checked++;
    }
  }
  assert.is(checked, 6, 'every shape was checked, with and without the ReLU');
});

test('dense forward with every ReLU output cut: all gradients are exactly zero, as the differences say', () => {
  const [M, K, N] = [3, 7, 5];
  const X = randoms(M * K, 31), W = randoms(K * N, 32, 0.1), R = randoms(M * N, 34);
  const b = new Float64Array(N).fill(-10); // |X·W| ≤ 7·0.1 < 10: every pre-activation is negative
  const Y = new Float64Array(M * N);
  const loss = () => { ref.denseForward(f64(X), f64(W), f64(b), f64(Y), M, K, N, true); return dot(Y, R); };
  loss();
  assert.ok(Y.every((v) => v === 0), 'every output is cut');
  const dZ = new Float32Array(M * N);
  ref.reluBackward(f32(R), f32(Y), dZ, M * N);
  const dW = new Float32Array(K * N).fill(NaN), db = new Float32Array(N).fill(NaN), dX = new Float32Array(M * K).fill(NaN);
  ref.denseBackwardWeights(f32(X), dZ, dW, db, M, K, N);
  ref.denseBackwardInput(dZ, f32(W), dX, null, M, K, N);
  for (const [name, analytic, param] of [['dW', dW, W], ['db', db, b], ['dX', dX, X]] as const) {
    assert.ok(analytic.every((v) => v === 0), `${name}: analytic gradient is not all zero`);
    assert.ok(numericGrad(param, loss).every((v) => v === 0), `${name}: numeric gradient is not all zero`);
  }
});

test('dense backward input with the fused relu mask = gradient through relu(X)', () => {
  const [M, K, N] = [3, 7, 5];
  const A = randoms(M * K, 3), W = randoms(K * N, 4), R = randoms(M * N, 5);
  const X = new Float64Array(M * K), Y = new Float64Array(M * N);
  // L = Σ R ⊙ (relu(A)·W); gradient with respect to A
  const loss = () => { ref.relu(f64(A), f64(X), M * K); ref.denseForward(f64(X), f64(W), null, f64(Y), M, K, N, false); return dot(Y, R); };
  loss();
  const dA = new Float32Array(M * K);
  ref.denseBackwardInput(f32(R), f32(W), dA, f32(X), M, K, N);
  assertGradClose(dA, numericGrad(A, loss), 'dA');
});

test('relu backward', () => {
  const n = 50, X = randoms(n, 9), R = randoms(n, 10), Y = new Float64Array(n);
  const loss = () => { ref.relu(f64(X), f64(Y), n); return dot(Y, R); };
  loss();
  const dX = new Float32Array(n);
  ref.reluBackward(f32(R), f32(Y), dX, n);
  assertGradClose(dX, numericGrad(X, loss), 'relu dX');
});

// Dropout, checked against its definition rather than against itself: the
// mask from the RNG's formula (test/support/oracle64.ts, BigInt mix32), the
// scale as 1/(1 − rate) in float64; then the backward pass (the same kernel
// on dY) against the differences of that independent forward.
test('dropout: the mask is the RNG definition, kept values are scaled by 1/(1 - rate), and the backward pass is its gradient', () => {
  const n = 2000;
  for (const [rate, seed, stream, step] of [[0.3, 42, 18, 3], [0.5, 7, 16, 0], [0.2, 1, 17, 1874]]) {
    const key = rngKey(seed, stream, step);
    const keep = dropoutKeep64(keyBig(seed, stream, step), n, rate);
    assert.equal(Array.from(ref.dropoutMask(n, key, rate)), Array.from(keep), `rate ${rate}: mask`);
    const kept = keep.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(kept / n - (1 - rate)) < 0.04, `rate ${rate}: kept ${kept} of ${n}`);
    const X = randoms(n, 11 + step, 3);
    const Y = new Float32Array(n).fill(NaN);
    ref.dropout(f32(X), Y, n, key, rate);
    for (let i = 0; i < n; i++) {
      if (!keep[i]) { if (!Object.is(Y[i], 0)) assert.unreachable(`rate ${rate}: dropped element ${i} is ${Y[i]}, not 0`); continue; }
      const ratio = Y[i] / X[i];
      if (!(Math.abs(ratio * (1 - rate) - 1) < 3e-7)) assert.unreachable(`rate ${rate}: element ${i} scaled by ${ratio}, want 1/(1 - ${rate}) = ${1 / (1 - rate)}`);
    }
    // The gradient of L = Σ R ⊙ dropout(X), with the independent forward.
    const R = randoms(n, 12 + step);
    const loss = () => dot(dropout64(X, keep, rate), R);
    const dX = new Float32Array(n);
    ref.dropout(f32(R), dX, n, key, rate);
    assertGradClose(dX, numericGrad(X, loss), `rate ${rate}: dropout dX`);
  }
});

test('softmax cross-entropy: dLogits is the gradient of the mean loss', () => {
  for (const [M, C] of [[1, 2], [3, 10], [5, 7]]) {
    const Z = randoms(M * C, M * C, 3);
    const labels = Uint8Array.from({ length: M }, (_, i) => (i * 7 + 3) % C);
    const loss = () => ref.softmaxXent(f64(Z), labels, null, M, C, M).lossSum / M;
    const d = new Float32Array(M * C);
    ref.softmaxXent(f32(Z), labels, d, M, C, M);
    assertGradClose(d, numericGrad(Z, loss), `dLogits ${M}x${C}`);
  }
});

// ---- the whole model ------------------------------------------------------

function modelSpec(layers: LayerSpec[]): ModelSpec {
  return {
    name: 'gradcheck', seed: 7, input_shape: [28, 28], layers,
    loss: { type: 'sparse_categorical_crossentropy', from_logits: true },
    optimizer: { type: 'adam', learning_rate: 1e-3, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 },
    metrics: ['accuracy'], training: { epochs: 1, batch_size: 3, shuffle: false },
    dataset: { name: 'mnist' }, backend: 'js',
  };
}

/**
 * The training-mode loss of `graph` in float64, interpreting graph.forward
 * with naive loops: rows `order[start … start+rows)` of the images, dropout
 * masks of global step `step`, parameters from `params` (graph.params order).
 */
function forward64(graph: Graph, params: Float64Array[], images: Uint8Array, labels: Uint8Array, order: Uint32Array, start: number, rows: number, step: number): number {
  const buf = new Map<string, Float64Array>();
  graph.params.forEach((p, i) => buf.set(p.name, params[i]));
  let batchLabels = new Uint8Array(0);
  let loss = NaN;
  for (const op of graph.forward) {
    switch (op.kind) {
      case 'gather': {
        const x = new Float64Array(rows * op.features);
        for (let r = 0; r < rows; r++) for (let j = 0; j < op.features; j++) x[r * op.features + j] = Math.fround(images[order[start + r] * op.features + j] * Math.fround(1 / 255));
        batchLabels = Uint8Array.from({ length: rows }, (_, r) => labels[order[start + r]]);
        buf.set(op.x, x);
        break;
      }
      case 'dense_forward': {
        const x = buf.get(op.x)!, w = buf.get(op.w)!, b = op.b ? buf.get(op.b)! : null;
        const M = rows * (op.seq ?? 1); // a dense layer on a sequence: every position is a row
        const y = new Float64Array(M * op.n);
        for (let r = 0; r < M; r++) for (let j = 0; j < op.n; j++) {
          let s = b ? b[j] : 0;
          for (let k = 0; k < op.k; k++) s += x[r * op.k + k] * w[k * op.n + j];
          y[r * op.n + j] = op.relu ? Math.max(s, 0) : s;
        }
        buf.set(op.y, y);
        break;
      }
      case 'dropout': {
        const x = buf.get(op.x)!;
        // By definition (test/support/oracle64.ts), not through the kernels' own mask.
        buf.set(op.y, dropout64(x, dropoutKeep64(keyBig(graph.seed, op.stream, step), rows * op.features, op.rate), op.rate));
        break;
      }
      case 'add': case 'subtract': case 'multiply': {
        const a = buf.get(op.a)!, b = buf.get(op.b)!;
        buf.set(op.y, Float64Array.from(a, (v, i) => (op.kind === 'add' ? v + b[i] : op.kind === 'subtract' ? v - b[i] : v * b[i])));
        break;
      }
      case 'scale': {
        const x = buf.get(op.x)!;
        buf.set(op.y, Float64Array.from(x, (v) => v * op.s));
        break;
      }
      case 'concat': {
        const a = buf.get(op.a)!, b = buf.get(op.b)!, y = new Float64Array(rows * op.outer * (op.wa + op.wb));
        for (let o = 0; o < rows * op.outer; o++) {
          for (let j = 0; j < op.wa; j++) y[o * (op.wa + op.wb) + j] = a[o * op.wa + j];
          for (let j = 0; j < op.wb; j++) y[o * (op.wa + op.wb) + op.wa + j] = b[o * op.wb + j];
        }
        buf.set(op.y, y);
        break;
      }
      case 'position_embedding': {
        const x = buf.get(op.x)!, p = buf.get(op.p)!, TD = op.positions * op.dim;
        buf.set(op.y, Float64Array.from({ length: rows * TD }, (_, i) => x[i] + p[i % TD]));
        break;
      }
      case 'layer_norm': {
        const x = buf.get(op.x)!, g = op.gamma ? buf.get(op.gamma)! : null, b = op.beta ? buf.get(op.beta)! : null, D = op.dim;
        const y = new Float64Array(x.length);
        for (let v = 0; v < rows * op.groups; v++) {
          let mu = 0, varSum = 0;
          for (let d = 0; d < D; d++) mu += x[v * D + d] / D;
          for (let d = 0; d < D; d++) varSum += (x[v * D + d] - mu) ** 2 / D;
          for (let d = 0; d < D; d++) y[v * D + d] = ((x[v * D + d] - mu) / Math.sqrt(varSum + op.epsilon)) * (g ? g[d] : 1) + (b ? b[d] : 0);
        }
        buf.set(op.y, y);
        break;
      }
      case 'attention_scores': {
        const probs = new Float64Array(rows * op.heads * op.seq * op.seq);
        attentionScores(f64(buf.get(op.q)!), f64(buf.get(op.k)!), f64(probs), { rows, T: op.seq, H: op.heads }, op.keyDim, op.causal, op.scale);
        buf.set(op.probs, probs);
        break;
      }
      case 'attention_values': {
        const o = new Float64Array(rows * op.seq * op.heads * op.valueDim);
        attentionValues(f64(buf.get(op.probs)!), f64(buf.get(op.v)!), f64(o), { rows, T: op.seq, H: op.heads }, op.valueDim);
        buf.set(op.o, o);
        break;
      }
      case 'softmax_xent': {
        const z = buf.get(op.logits)!, C = op.classes;
        let sum = 0;
        for (let r = 0; r < rows; r++) {
          const row = z.subarray(r * C, r * C + C);
          const max = Math.max(...row);
          let e = 0;
          for (const v of row) e += Math.exp(v - max);
          sum += max + Math.log(e) - row[batchLabels[r]];
        }
        loss = sum / rows;
        break;
      }
      default:
        throw new Error(`op ${op.kind} is not a forward op`);
    }
  }
  return loss;
}

/** `zero`: parameters whose gradient is 0 by the maths (attention's key bias shifts every score of a row alike): checked to be ~0 instead. */
async function checkWholeModel(layers: LayerSpec[], count: number, firstBatch: number, step: number, label: string, zero: string[] = []) {
  const graph = compileGraph(modelSpec(layers), 3);
  const kinds = new Set(graph.backward.map((op) => op.kind));
  const params = initParams(graph);
  // Non-zero biases, so their use is visible.
  graph.params.forEach((p, i) => { if (p.init === 'zeros') params[i].set(randoms(p.size, 100 + i, 0.1)); });
  const images = Uint8Array.from({ length: count * 784 }, (_, i) => 1 + ((i * 2654435761) >>> 24) % 255);
  const labels = Uint8Array.from({ length: count }, (_, i) => (i * 3 + 1) % 10);
  const order = Uint32Array.from({ length: count }, (_, i) => (i * 2 + 1) % count); // a permutation for odd counts
  const be = new JsBackend();
  await be.prepare(graph, params.map((p) => p.slice()));
  await be.setDataset('train', { images, labels, count, features: 784 });
  await be.setOrder(order);
  await be.trainSteps(firstBatch, 1, step);
  const metrics = await be.readMetrics();
  const start = firstBatch * graph.batchSize, rows = Math.min(graph.batchSize, count - start);
  assert.is(metrics.samples, rows, `${label}: rows in the step`);

  const p64 = params.map((p) => Float64Array.from(p));
  const loss = () => forward64(graph, p64, images, labels, order, start, rows, step);
  const l0 = loss();
  assert.ok(Math.abs(metrics.lossSum / rows - l0) < 1e-5 * Math.abs(l0), `${label}: backend loss ${metrics.lossSum / rows} vs float64 ${l0}`);
  let worst = 0;
  graph.params.forEach((p, i) => {
    if (zero.includes(p.name)) {
      const g = be.readBuffer(p.grad);
      assert.ok(g.every((v) => Math.abs(v) < 1e-6), `${label} ${p.name}: gradient should be 0, got max ${Math.max(...g.map(Math.abs))}`);
      return;
    }
    worst = Math.max(worst, assertGradClose(be.readBuffer(p.grad), numericGrad(p64[i], loss), `${label} ${p.name}`));
  });
  be.dispose();
  return { kinds, worst };
}

test('whole model, dropout active: flatten → dense 6 relu → dense 5 relu → dropout 0.3 → dense 10', async () => {
  const layers: LayerSpec[] = [
    { type: 'flatten' },
    { type: 'dense', units: 6, activation: 'relu', use_bias: true },
    { type: 'dense', units: 5, activation: 'relu', use_bias: true },
    { type: 'dropout', rate: 0.3 },
    { type: 'dense', units: 10, activation: 'linear', use_bias: true },
  ];
  // A full batch of 3 rows at global step 5.
  const { kinds } = await checkWholeModel(layers, 3, 0, 5, 'full batch');
  // Every kind of backward op is exercised: explicit relu_backward (relu → dropout),
  // fused relu mask (relu → dense), dropout_backward.
  for (const k of ['dense_backward_weights', 'dense_backward_input', 'relu_backward', 'dropout_backward']) assert.ok(kinds.has(k as never), `graph has ${k}`);
  // The partial last batch of an epoch: 5 examples, batch 3, second batch has 2 rows (mean over 2).
  await checkWholeModel(layers, 5, 1, 11, 'partial batch');
});

test('whole model without biases: flatten → dense 4 relu (no bias) → dropout 0.5 → dense 10 (no bias)', async () => {
  await checkWholeModel([
    { type: 'flatten' },
    { type: 'dense', units: 4, activation: 'relu', use_bias: false },
    { type: 'dropout', rate: 0.5 },
    { type: 'dense', units: 10, activation: 'linear', use_bias: false },
  ], 3, 0, 2, 'no bias');
});

test('whole graph, every merge layer and tensors used two and three times: add, subtract, multiply, average, concatenate', async () => {
  const layers = [
    { type: 'flatten' },
    { type: 'dense', name: 'a', units: 6, activation: 'relu', use_bias: true },
    { type: 'dense', name: 'b', units: 6, activation: 'relu', use_bias: true, inputs: ['flatten_1'] },
    { type: 'add', name: 'sum', inputs: ['a', 'b'] },
    { type: 'subtract', name: 'diff', inputs: ['a', 'b'] },
    { type: 'multiply', name: 'prod', inputs: ['sum', 'diff', 'sum'] },
    { type: 'average', name: 'mean', inputs: ['prod', 'a'] },
    { type: 'concatenate', name: 'joined', inputs: ['mean', 'b', 'diff'], axis: -1 },
    { type: 'dropout', rate: 0.3 },
    { type: 'dense', units: 10, activation: 'linear', use_bias: true },
  ] as LayerSpec[];
  const { kinds } = await checkWholeModel(layers, 3, 0, 4, 'merge graph');
  // The gradients of a, b and sum arrive from several layers and are summed with add ops.
  for (const k of ['add', 'scale', 'multiply', 'split']) assert.ok(kinds.has(k as never), `graph has ${k} in backward`);
});

test('whole model, dense layers on a sequence: [28, 28] rows → dense 5 relu → dense 3 → flatten → dense 10', async () => {
  const { kinds } = await checkWholeModel([
    { type: 'dense', units: 5, activation: 'relu', use_bias: true },
    { type: 'dense', units: 3, activation: 'linear', use_bias: true },
    { type: 'flatten' },
    { type: 'dense', units: 10, activation: 'linear', use_bias: true },
  ], 3, 0, 1, 'sequence dense');
  assert.ok(kinds.has('dense_backward_input'));
});

test('whole model, attention: rows → dense 4 → position_embedding → layer_normalization → causal multi_head_attention (2 heads, dropout) + residual add → flatten → dense 10', async () => {
  const { kinds } = await checkWholeModel([
    { type: 'dense', units: 4, activation: 'linear', use_bias: true },
    { type: 'position_embedding', name: 'pos', sequence_length: 30 },
    { type: 'layer_normalization', axis: -1, epsilon: 0.001, center: true, scale: true },
    { type: 'multi_head_attention', name: 'mha', num_heads: 2, key_dim: 3, value_dim: 2, dropout: 0.25, use_bias: true, use_causal_mask: true },
    { type: 'add', inputs: ['pos', 'mha'] },
    { type: 'flatten' },
    { type: 'dense', units: 10, activation: 'linear', use_bias: true },
  ] as LayerSpec[], 3, 0, 3, 'attention', ['mha/key/bias']);
  for (const k of ['attention_scores_backward', 'attention_values_backward', 'position_embedding_backward', 'dropout_backward']) assert.ok(kinds.has(k as never), `graph has ${k}`);
});

test.run();
