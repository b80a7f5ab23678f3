// The reference kernels are the oracle for every other backend, so they are
// checked here against textbook float64 implementations written out
// independently, on random non-zero inputs at awkward shapes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ref from '../src/runtime/reference/kernels.js';
import { rngKey, hashAt, dropoutScale } from '../src/runtime/rng.js';

// Deterministic random values in [-1, 1) \ {0}, from a simple LCG (independent of the RNG under test elsewhere).
function randoms(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    let u = (s / 2 ** 32) * 2 - 1;
    if (Math.abs(u) < 1e-3) u = 0.5;
    out[i] = u * scale;
  }
  return out;
}
function randomInts(n: number, max: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 22695477) + 1) >>> 0; out[i] = (s >>> 16) % max; }
  return out;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, what: string) {
  assert.is(actual.length, expected.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    const tol = rel * (Math.abs(expected[i]) + scale * 1e-2) + 1e-30;
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) assert.unreachable(`${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

// ---- naive float64 versions -------------------------------------------------
function naiveMatmul(A: ArrayLike<number>, B: ArrayLike<number>, M: number, K: number, N: number, transA = false, transB = false): Float64Array {
  const C = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += (transA ? A[k * M + i] : A[i * K + k]) * (transB ? B[j * K + k] : B[k * N + j]);
    C[i * N + j] = s;
  }
  return C;
}

const SIZES = [1, 3, 7, 33];
const shapes: [number, number, number][] = [];
for (const M of SIZES) for (const K of SIZES) for (const N of SIZES) shapes.push([M, K, N]);

test('denseForward (bias, no bias, fused relu) vs naive, all shapes in {1,3,7,33}³', () => {
  let seed = 1;
  for (const [M, K, N] of shapes) {
    const X = randoms(M * K, seed++), W = randoms(K * N, seed++), b = randoms(N, seed++);
    const want = naiveMatmul(X, W, M, K, N);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) want[i * N + j] += b[j];
    const Y = new Float32Array(M * N).fill(NaN);
    ref.denseForward(X, W, b, Y, M, K, N, false);
    assertClose(Y, want, 1e-5, `Y ${M}x${K}x${N}`);
    // fused relu = relu(unfused)
    const Yr = new Float32Array(M * N).fill(NaN), Yu = new Float32Array(M * N);
    ref.denseForward(X, W, b, Yr, M, K, N, true);
    ref.relu(Y, Yu, M * N);
    assert.equal(Yr, Yu, 'fused relu == relu(unfused)');
    assertClose(Yr, want.map((v) => Math.max(v, 0)), 1e-5, 'relu');
    // use_bias: false
    const Yn = new Float32Array(M * N).fill(NaN);
    ref.denseForward(X, W, null, Yn, M, K, N, false);
    assertClose(Yn, naiveMatmul(X, W, M, K, N), 1e-5, 'no bias');
  }
});

test('denseBackwardWeights vs naive Xᵀ·dY and column sums', () => {
  let seed = 100;
  for (const [M, K, N] of shapes) {
    const X = randoms(M * K, seed++), dY = randoms(M * N, seed++);
    const dW = new Float32Array(K * N).fill(NaN), db = new Float32Array(N).fill(NaN);
    ref.denseBackwardWeights(X, dY, dW, db, M, K, N);
    assertClose(dW, naiveMatmul(X, dY, K, M, N, true, false), 1e-5, `dW ${M}x${K}x${N}`);
    const wantDb = new Float64Array(N);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) wantDb[j] += dY[i * N + j];
    assertClose(db, wantDb, 1e-5, 'db');
    const dW2 = new Float32Array(K * N).fill(7);
    ref.denseBackwardWeights(X, dY, dW2, null, M, K, N);
    assert.equal(dW2, dW, 'db null: same dW, overwritten not accumulated');
  }
});

test('denseBackwardInput vs naive dY·Wᵀ, with and without the fused relu mask', () => {
  let seed = 200;
  for (const [M, K, N] of shapes) {
    const dY = randoms(M * N, seed++), W = randoms(K * N, seed++), reluOut = randoms(M * K, seed++).map((v) => Math.max(v, 0));
    const dX = new Float32Array(M * K).fill(NaN);
    ref.denseBackwardInput(dY, W, dX, null, M, K, N);
    const want = naiveMatmul(dY, W, M, N, K, false, true);
    assertClose(dX, want, 1e-5, `dX ${M}x${K}x${N}`);
    const dXm = new Float32Array(M * K).fill(NaN);
    ref.denseBackwardInput(dY, W, dXm, reluOut, M, K, N);
    assertClose(dXm, want.map((v, i) => (reluOut[i] > 0 ? v : 0)), 1e-5, 'masked dX');
    // fused mask == unfused reluBackward
    const dXu = new Float32Array(M * K);
    ref.reluBackward(dX, reluOut, dXu, M * K);
    assert.equal(dXm, dXu);
  }
});

test('one 1000-sized case: 1000×33×7 forward and backward', () => {
  const [M, K, N] = [1000, 33, 7];
  const X = randoms(M * K, 901), W = randoms(K * N, 902), b = randoms(N, 903), dY = randoms(M * N, 904);
  const Y = new Float32Array(M * N);
  ref.denseForward(X, W, b, Y, M, K, N, false);
  const want = naiveMatmul(X, W, M, K, N).map((v, i) => v + b[i % N]);
  assertClose(Y, want, 1e-5, 'Y');
  const dW = new Float32Array(K * N), db = new Float32Array(N);
  ref.denseBackwardWeights(X, dY, dW, db, M, K, N);
  assertClose(dW, naiveMatmul(X, dY, K, M, N, true), 1e-5, 'dW (sum over 1000 rows)');
  const dX = new Float32Array(M * K);
  ref.denseBackwardInput(dY, W, dX, null, M, K, N);
  assertClose(dX, naiveMatmul(dY, W, M, N, K, false, true), 1e-5, 'dX');
  // and K = 1000
  const X2 = randoms(3 * 1000, 905), W2 = randoms(1000 * 7, 906), Y2 = new Float32Array(21);
  ref.denseForward(X2, W2, null, Y2, 3, 1000, 7, false);
  assertClose(Y2, naiveMatmul(X2, W2, 3, 1000, 7), 1e-4, 'K=1000');
});

test('relu and reluBackward', () => {
  const X = randoms(33, 5), Y = new Float32Array(33), dY = randoms(33, 6), dX = new Float32Array(33);
  ref.relu(X, Y, 33);
  for (let i = 0; i < 33; i++) assert.is(Y[i], X[i] > 0 ? X[i] : 0);
  ref.reluBackward(dY, Y, dX, 33);
  for (let i = 0; i < 33; i++) assert.is(dX[i], X[i] > 0 ? dY[i] : 0);
  const Z = new Float32Array([NaN, -0, 0]), Zo = new Float32Array(3);
  ref.relu(Z, Zo, 3);
  assert.equal([...Zo], [0, 0, 0]);
});

test('dropout: kept = x·1/(1-rate) where hash >>> 8 >= threshold, same mask forward and backward', () => {
  const n = 1003, rate = 0.3, key = rngKey(42, 18, 9);
  const X = randoms(n, 11), Y = new Float32Array(n);
  ref.dropout(X, Y, n, key, rate);
  const mask = ref.dropoutMask(n, key, rate);
  const scale = dropoutScale(rate);
  for (let i = 0; i < n; i++) {
    const keep = hashAt(key, i) / 2 ** 32 >= rate; // float view of the integer rule (differs only within 2^-24 of the edge)
    assert.is(mask[i], keep ? 1 : 0, `mask[${i}]`);
    assert.is(Y[i], keep ? Math.fround(X[i] * scale) : 0);
  }
  const dY = randoms(n, 12), dX = new Float32Array(n);
  ref.dropout(dY, dX, n, key, rate);
  for (let i = 0; i < n; i++) assert.is(dX[i] !== 0, mask[i] === 1);
});

function naiveXent(logits: ArrayLike<number>, labels: ArrayLike<number>, M: number, C: number) {
  let loss = 0;
  const grad = new Float64Array(M * C);
  for (let i = 0; i < M; i++) {
    const row = Array.from({ length: C }, (_, c) => logits[i * C + c]);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, z) => s + Math.exp(z - max), 0));
    loss += lse - row[labels[i]];
    for (let c = 0; c < C; c++) grad[i * C + c] = (Math.exp(row[c] - lse) - (c === labels[i] ? 1 : 0)) / M;
  }
  return { loss, grad };
}

test('softmaxXent vs naive: loss sum, dLogits = (softmax - onehot)/M, correct count', () => {
  for (const [M, C] of [[1, 10], [3, 7], [33, 10], [7, 1000]]) {
    const logits = randoms(M * C, M * C, 4), labels = randomInts(M, C, M + C);
    const d = new Float32Array(M * C).fill(NaN);
    const { lossSum, correct } = ref.softmaxXent(logits, labels, d, M, C, M);
    const want = naiveXent(logits, labels, M, C);
    assert.ok(Math.abs(lossSum - want.loss) < 1e-5 * Math.max(1, want.loss), `loss ${lossSum} vs ${want.loss}`);
    assertClose(d, want.grad, 1e-5, `dLogits ${M}x${C}`);
    let wantCorrect = 0;
    for (let i = 0; i < M; i++) {
      let arg = 0;
      for (let c = 1; c < C; c++) if (logits[i * C + c] > logits[i * C + arg]) arg = c;
      if (arg === labels[i]) wantCorrect++;
    }
    assert.is(correct, wantCorrect);
    // rows of dLogits sum to 0
    for (let i = 0; i < M; i++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += d[i * C + c];
      assert.ok(Math.abs(s) < 1e-6);
    }
    // dLogits null (evaluation) gives the same loss and count
    const r = ref.softmaxXent(logits, labels, null, M, C, M);
    assert.equal(r, { lossSum, correct });
  }
});

test('softmaxXent is stable with huge logits (1e4) and its gradient scale is the row count', () => {
  const logits = new Float32Array([1e4, 0, -1e4, 1e4 - 1, 1e4, 1e4 + 2]);
  const labels = new Uint8Array([0, 0]);
  const d = new Float32Array(6);
  const { lossSum, correct } = ref.softmaxXent(logits, labels, d, 2, 3, 2);
  assert.ok(Number.isFinite(lossSum) && d.every(Number.isFinite));
  // row 0: loss = log(1 + e^-1e4 + e^-2e4) ~ 0; row 1: lse over [-1, 0, 2] relative, minus (-1)
  const row1 = Math.log(Math.exp(-3) + Math.exp(-2) + 1) + 2 - -1;
  assert.ok(Math.abs(lossSum - row1) < 1e-5, `${lossSum} vs ${row1}`);
  assert.is(correct, 1);
  assert.ok(Math.abs(d[0]) < 1e-7);
  // gradScale divides, independent of M
  const d4 = new Float32Array(6);
  ref.softmaxXent(logits, labels, d4, 2, 3, 4);
  for (let i = 0; i < 6; i++) assert.ok(Math.abs(d4[i] * 2 - d[i]) < 1e-7);
});

test('softmaxXent argmax ties go to the first maximum', () => {
  const logits = new Float32Array([0.5, 2, 2, 1, /**/ 3, 3, 3, 3, /**/ 1, 0, 1, 0]);
  const { correct: c1 } = ref.softmaxXent(logits, new Uint8Array([1, 0, 0]), null, 3, 4, 3);
  assert.is(c1, 3);
  const { correct: c2 } = ref.softmaxXent(logits, new Uint8Array([2, 3, 2]), null, 3, 4, 3);
  assert.is(c2, 0);
});

test('softmax rows sum to 1 and match exp(z)/sum exp(z), even for huge logits', () => {
  const z = new Float32Array([1e4, 1e4, 0, 1, 2, 3]), p = new Float32Array(6);
  ref.softmax(z, p, 2, 3);
  assertClose(p.subarray(0, 3), [0.5, 0.5, 0], 1e-6, 'huge');
  const e = [1, Math.E, Math.E ** 2], s = e[0] + e[1] + e[2];
  assertClose(p.subarray(3), e.map((x) => x / s), 1e-6, 'small');
});

test('gather: rows in order, pixels scaled by the f32 1/255, labels copied', () => {
  const features = 5, count = 4;
  const images = new Uint8Array([...Array(count * features)].map((_, i) => (i * 37 + 1) % 256));
  const labels = new Uint8Array([3, 1, 4, 5]);
  const order = new Uint32Array([2, 0, 3, 1]);
  const X = new Float32Array(3 * features).fill(NaN), L = new Int32Array(3).fill(-1);
  ref.gather(images, labels, order, 1, 3, features, X, L);
  assert.equal([...L], [3, 5, 1]);
  for (let r = 0; r < 3; r++) for (let j = 0; j < features; j++) {
    const px = images[order[1 + r] * features + j];
    assert.is(X[r * features + j], Math.fround(px * ref.PIXEL_SCALE));
    assert.ok(Math.abs(X[r * features + j] - px / 255) < 1e-7);
  }
  assert.is(ref.PIXEL_SCALE, Math.fround(1 / 255));
  const X255 = new Float32Array(1), L1 = new Uint8Array(1);
  ref.gather(new Uint8Array([255]), new Uint8Array([0]), new Uint32Array([0]), 0, 1, 1, X255, L1);
  assert.ok(Math.abs(X255[0] - 1) < 1e-7);
});

test('adam: two steps against the Keras formulas computed by hand', () => {
  const h = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
  const p0 = [0.5, -0.25, 1.0], g1 = [0.1, -0.2, 0.0003], g2 = [-0.3, 0.05, 0.0004];
  const p = Float32Array.from(p0), m = new Float32Array(3), v = new Float32Array(3), g = new Float32Array(3);
  g.set(g1); ref.adam(p, g, m, v, 3, ref.adamStepSize(h, 1), h.beta1, h.beta2, h.epsilon);
  g.set(g2); ref.adam(p, g, m, v, 3, ref.adamStepSize(h, 2), h.beta1, h.beta2, h.epsilon);
  for (let i = 0; i < 3; i++) {
    // Keras (tf.keras.optimizers.Adam): m_t = β1 m + (1-β1) g; v_t = β2 v + (1-β2) g²;
    // lr_t = lr·sqrt(1-β2^t)/(1-β1^t); p -= lr_t·m_t/(sqrt(v_t) + ε)
    const m1 = 0.1 * g1[i], v1 = 0.001 * g1[i] ** 2;
    const pa = p0[i] - (1e-3 * Math.sqrt(1 - 0.999) / (1 - 0.9)) * m1 / (Math.sqrt(v1) + 1e-7);
    const m2 = 0.9 * m1 + 0.1 * g2[i], v2 = 0.999 * v1 + 0.001 * g2[i] ** 2;
    const pb = pa - (1e-3 * Math.sqrt(1 - 0.999 ** 2) / (1 - 0.81)) * m2 / (Math.sqrt(v2) + 1e-7);
    assert.ok(Math.abs(m[i] - m2) < 1e-6 * Math.abs(m2) + 1e-12, `m[${i}]`);
    assert.ok(Math.abs(v[i] - v2) < 1e-6 * Math.abs(v2) + 1e-15, `v[${i}]`);
    assert.ok(Math.abs(p[i] - pb) < 1e-6, `p[${i}]: ${p[i]} vs ${pb}`);
  }
  // First step moves each parameter by about lr against the sign of its gradient.
  assert.ok(Math.abs(ref.adamStepSize(h, 1) - 1e-3 * Math.sqrt(0.001) / 0.1) < 1e-12);
});

test.run();
