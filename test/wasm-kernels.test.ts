// Every AssemblyScript kernel (kernels/as, the embedded .wasm) against the
// TypeScript reference on random non-zero inputs at awkward shapes.
//
// Relative error of an output array a against the reference b:
//   relErr(a, b) = max_i |a_i - b_i| / max(max_i |b_i|, 1e-30)
// (norm-based, so a near-zero element of a cancelling sum does not blow up
// the ratio). For the matmuls the scale is the magnitude of what was summed,
// the usual bound for a dot product in floating point:
//   matErr(a, b, s) = max_i |a_i - b_i| / max(max_i s_i, 1e-30),  s = |A|·|B| (+ |bias|)
// (the reference accumulates some sums in f64, the kernels in f32, so a
// heavily cancelling sum has an error that is small against its terms, not
// against its result). Every kernel must stay below 1e-5; Adam's parameter
// update below 1e-4 of the update itself (measured against the parameter,
// ~100× its step here, 1e-5 let a step ~0.1% wrong pass). Dropout, gather,
// ReLU, transpose and the RNG must be bit-identical. The matmuls' sparse
// paths (skipping zero inputs) get inputs with zero runs as well.
//
// Both builds are tested: the plain-SIMD one always; the relaxed-SIMD one in
// this process when the engine validates it, otherwise in a child Node with
// --experimental-wasm-relaxed-simd (Node 20). If no engine here accepts it,
// the relaxed part is skipped loudly, and under CI=true it fails.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { relErr, updateErr } from './support/compare.js';
import { kernelRandoms } from './support/random.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as ref from '../src/runtime/reference/kernels.js';
import { dropoutScale, dropoutThreshold, hashAt, rngKey } from '../src/runtime/rng.js';
import { Heap, instantiateKernels, relaxedSimdSupported, type KernelExports, type WasmVariant } from '../src/runtime/wasm/module.js';

const ONLY = process.env.TESSERA_WASM_VARIANT as WasmVariant | undefined;
const variants: WasmVariant[] = ONLY ? [ONLY] : relaxedSimdSupported() ? ['simd', 'relaxed'] : ['simd'];
const TOL = 1e-5;
const CI = process.env.CI === 'true' || process.env.CI === '1';
/** Adam's parameter update, relative to the update (test/support/compare.ts updateErr). */
const UPDATE_TOL = 1e-4;


const { rand, randBytes } = kernelRandoms(7, 1000);

function matErr(a: ArrayLike<number>, b: ArrayLike<number>, scale: ArrayLike<number>): number {
  assert.is(a.length, b.length, 'lengths');
  let d = 0, s = 0;
  for (let i = 0; i < b.length; i++) {
    if (Number.isNaN(a[i]) !== Number.isNaN(b[i])) return Infinity;
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(scale[i]), Math.abs(b[i]));
  }
  return d / Math.max(s, 1e-30);
}
const abs = (a: Float32Array) => a.map(Math.abs);

/**
 * For the sparse paths: zero whole runs of X like image borders, plus
 * scattered single zeros, leaving most values random and non-zero.
 */
function sprinkleZeros(x: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) if ((i * 2654435761) % 7 < 3 || i % 13 < 4) x[i] = 0;
}

/** A kernel instance with helpers to place arrays in its memory. */
class Harness {
  heap: Heap;
  constructor(readonly k: KernelExports) { this.heap = new Heap(k); }
  put(a: Float32Array): number { const p = this.heap.alloc(a.byteLength + 16); this.heap.f32(p, a.length).set(a); return p; }
  putU8(a: Uint8Array): number { const p = this.heap.alloc(a.length + 16); this.heap.u8(p, a.length).set(a); return p; }
  putI32(a: ArrayLike<number>): number { const p = this.heap.alloc(a.length * 4 + 16); this.heap.i32(p, a.length).set(a); return p; }
  out(n: number): number { const p = this.heap.alloc(n * 4 + 16); this.heap.f32(p, n).fill(NaN); return p; }
  get(p: number, n: number): Float32Array { return this.heap.f32(p, n).slice(); }
}

const harnesses = new Map<WasmVariant, Harness>();
async function H(v: WasmVariant): Promise<Harness> {
  // A fresh instance per test keeps memory small; instantiation is ~1 ms.
  const h = new Harness(await instantiateKernels(v));
  harnesses.set(v, h);
  return h;
}

const MS = [1, 3, 7, 33];
const KS = [1, 3, 7, 33, 129, 1000];
const NS = [1, 3, 7, 10, 33, 129];

for (const v of variants) {
  test(`[${v}] module reports its build`, async () => {
    const h = await H(v);
    assert.is(h.k.relaxedSimd(), v === 'relaxed' ? 1 : 0);
  });

  test(`[${v}] rngKey and hashAt are bit-identical to src/runtime/rng.ts`, async () => {
    const h = await H(v);
    for (const [seed, s, step] of [[0, 0, 0], [42, 18, 0], [42, 18, 1874], [0xffffffff, 2, 9375], [123456789, 16, 4294967295]]) {
      const key = rngKey(seed, s, step);
      assert.is(h.k.rngKey(seed | 0, s, step | 0) >>> 0, key);
      for (const i of [0, 1, 2, 1000, 4095, 0x7fffffff]) assert.is(h.k.hashAt(key | 0, i) >>> 0, hashAt(key, i));
    }
  });

  test(`[${v}] dense_forward (bias, ReLU, no bias) at awkward shapes`, async () => {
    let worst = 0;
    for (const M of MS) for (const K of KS) for (const N of NS) {
      const h = await H(v);
      const X = rand(M * K), W = rand(K * N), b = rand(N);
      if (K >= 7) sprinkleZeros(X, M * K);
      for (const [useBias, relu, sparse] of [[true, true, 0], [true, false, 0], [false, false, 0], [true, true, 1], [false, false, 1]] as const) {
        const Y = new Float32Array(M * N);
        ref.denseForward(X, W, useBias ? b : null, Y, M, K, N, relu);
        const py = h.out(M * N);
        h.k.denseForward(h.put(X), h.put(W), useBias ? h.put(b) : 0, py, M, K, N, relu ? 1 : 0, sparse);
        const S = new Float32Array(M * N);
        ref.denseForward(abs(X), abs(W), useBias ? abs(b) : null, S, M, K, N, false);
        const e = matErr(h.get(py, M * N), Y, S);
        worst = Math.max(worst, e);
        assert.ok(e < TOL, `M=${M} K=${K} N=${N} bias=${useBias} relu=${relu} sparse=${sparse}: rel err ${e}`);
      }
    }
    assert.ok(worst < TOL);
  });

  test(`[${v}] dense_backward_weights: dW = Xᵀ·dY and db at awkward shapes`, async () => {
    for (const M of MS) for (const K of KS) for (const N of NS) {
      const h = await H(v);
      const X = rand(M * K), dY = rand(M * N);
      if (M >= 7) sprinkleZeros(X, M * K);
      const dW = new Float32Array(K * N), db = new Float32Array(N);
      ref.denseBackwardWeights(X, dY, dW, db, M, K, N);
      const pw = h.out(K * N), pb = h.out(N);
      h.k.denseBackwardWeights(h.put(X), h.put(dY), pw, pb, M, K, N, 0);
      const S = new Float32Array(K * N), Sb = new Float32Array(N);
      ref.denseBackwardWeights(abs(X), abs(dY), S, Sb, M, K, N);
      const e = matErr(h.get(pw, K * N), dW, S), eb = matErr(h.get(pb, N), db, Sb);
      assert.ok(e < TOL, `dW M=${M} K=${K} N=${N}: rel err ${e}`);
      assert.ok(eb < TOL, `db M=${M} N=${N}: rel err ${eb}`);
      const pw2 = h.out(K * N);
      h.k.denseBackwardWeights(h.put(X), h.put(dY), pw2, 0, M, K, N, 1); // no bias, sparse
      assert.ok(matErr(h.get(pw2, K * N), dW, S) < TOL, `sparse dW M=${M} K=${K} N=${N}`);
    }
  });

  test(`[${v}] dense_backward_input: dX = dY·Wᵀ through the transposed copy, with and without the fused ReLU mask`, async () => {
    for (const M of MS) for (const K of KS) for (const N of NS) {
      const h = await H(v);
      const dY = rand(M * N), W = rand(K * N), reluOut = rand(M * K).map((x) => (x < 0 ? 0 : x));
      const pW = h.put(W), pWT = h.out(K * N);
      h.k.transpose(pW, pWT, K, N);
      const WT = h.get(pWT, K * N);
      for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) if (WT[j * K + k] !== W[k * N + j]) assert.unreachable(`transpose K=${K} N=${N} at ${k},${j}`);
      for (const masked of [false, true]) {
        const dX = new Float32Array(M * K);
        ref.denseBackwardInput(dY, W, dX, masked ? reluOut : null, M, K, N);
        const px = h.out(M * K);
        h.k.denseBackwardInput(h.put(dY), pWT, px, masked ? h.put(reluOut) : 0, M, K, N);
        const got = h.get(px, M * K);
        const S = new Float32Array(M * K);
        ref.denseBackwardInput(abs(dY), abs(W), S, null, M, K, N);
        const e = matErr(got, dX, S);
        assert.ok(e < TOL, `M=${M} K=${K} N=${N} masked=${masked}: rel err ${e}`);
        if (masked) for (let i = 0; i < M * K; i++) if (!(reluOut[i] > 0) && !Object.is(got[i], 0)) assert.unreachable(`masked element ${i} is ${got[i]}, not +0`);
      }
    }
  });

  test(`[${v}] relu and relu_backward are exact`, async () => {
    for (const n of [1, 3, 7, 33, 129, 1000]) {
      const h = await H(v);
      const X = rand(n), dY = rand(n);
      const Y = new Float32Array(n), dX = new Float32Array(n);
      ref.relu(X, Y, n);
      ref.reluBackward(dY, Y, dX, n);
      const py = h.out(n), pdx = h.out(n);
      h.k.relu(h.put(X), py, n);
      h.k.reluBackward(h.put(dY), h.put(Y), pdx, n);
      assert.equal(h.get(py, n), Y);
      assert.equal(h.get(pdx, n), dX);
    }
  });

  test(`[${v}] dropout: masks and values bit-identical to the reference`, async () => {
    for (const n of [1, 3, 7, 33, 129, 1000, 4096]) for (const rate of [0, 0.2, 0.5, 0.9, 1]) for (const step of [0, 1, 1874]) {
      const h = await H(v);
      const key = rngKey(42, 18, step);
      const thr = dropoutThreshold(rate), scale = dropoutScale(rate);
      const pm = h.heap.alloc(n + 16);
      h.k.dropoutMask(pm, n, key | 0, thr);
      assert.equal(h.heap.u8(pm, n).slice(), ref.dropoutMask(n, key, rate), `mask n=${n} rate=${rate}`);
      if (rate === 1) continue; // scale is infinite; the contract has no rate-1 layers
      const X = rand(n), Y = new Float32Array(n);
      ref.dropout(X, Y, n, key, rate);
      const py = h.out(n);
      h.k.dropout(h.put(X), py, n, key | 0, thr, scale);
      const got = h.get(py, n);
      for (let i = 0; i < n; i++) if (!Object.is(got[i], Y[i])) assert.unreachable(`n=${n} rate=${rate} step=${step} element ${i}: ${got[i]} vs ${Y[i]}`);
    }
  });

  test(`[${v}] softmax cross-entropy: loss, correct count, dLogits; softmax probabilities`, async () => {
    for (const M of [1, 3, 7, 33, 256]) for (const C of [1, 3, 10, 129]) {
      const h = await H(v);
      const logits = rand(M * C, 8);
      const labels = Int32Array.from({ length: M }, (_, i) => (i * 7 + 3) % C);
      // Make some rows' argmax the label so `correct` is exercised.
      for (let i = 0; i < M; i += 2) logits[i * C + labels[i]] = 9;
      const dl = new Float32Array(M * C);
      const r = ref.softmaxXent(logits, labels, dl, M, C, M);
      const pm = h.heap.alloc(24);
      h.heap.f64(pm, 3).set([1.5, 2, 3]); // accumulates onto what is there
      const pd = h.out(M * C), pl = h.put(logits);
      h.k.softmaxXent(pl, h.putI32(labels), pd, M, C, M, pm);
      const [loss, correct, samples] = h.heap.f64(pm, 3);
      assert.ok(Math.abs(loss - 1.5 - r.lossSum) <= 1e-9 * Math.max(1, r.lossSum), `M=${M} C=${C}: loss ${loss - 1.5} vs ${r.lossSum}`);
      assert.is(correct - 2, r.correct);
      assert.is(samples - 3, M);
      assert.ok(relErr(h.get(pd, M * C), dl) < TOL, `dLogits M=${M} C=${C}`);
      const probs = new Float32Array(M * C);
      ref.softmax(logits, probs, M, C);
      const pp = h.out(M * C);
      h.k.softmax(pl, pp, M, C);
      assert.ok(relErr(h.get(pp, M * C), probs) < TOL, `softmax M=${M} C=${C}`);
    }
  });

  test(`[${v}] adam: step size in f64 and the fused update`, async () => {
    const h0 = await H(v);
    const hp = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
    for (const t of [1, 2, 3, 10, 100, 1875, 9375, 100000]) {
      const a = h0.k.adamStepSize(hp.learningRate, hp.beta1, hp.beta2, t), b = ref.adamStepSize(hp, t);
      assert.ok(Math.abs(a - b) <= 1e-14 * b, `t=${t}: ${a} vs ${b}`);
    }
    for (const n of [1, 3, 7, 33, 129, 1000, 100352]) for (const t of [1, 2, 50]) {
      const h = await H(v);
      const p = rand(n, 0.1), g = rand(n, 0.01), m = rand(n, 0.001), vv = rand(n, 1e-5, true);
      if (t === 1) { m.fill(0); vv.fill(0); }
      const p0 = p.slice();
      const [pp, pg, pm, pv] = [h.put(p), h.put(g), h.put(m), h.put(vv)];
      const alpha = ref.adamStepSize(hp, t);
      ref.adam(p, g, m, vv, n, alpha, hp.beta1, hp.beta2, hp.epsilon);
      h.k.adam(pp, pg, pm, pv, n, alpha, hp.beta1, hp.beta2, hp.epsilon);
      // The step is ~1% of p: its error is measured against the step (updateErr), not against p.
      const e = updateErr(h.get(pp, n), p0, p);
      assert.ok(e < UPDATE_TOL, `p n=${n} t=${t}: error ${e} of the step`);
      assert.ok(relErr(h.get(pm, n), m) < TOL, `m n=${n} t=${t}`);
      assert.ok(relErr(h.get(pv, n), vv) < TOL, `v n=${n} t=${t}`);
    }
  });

  test(`[${v}] gather: bytes through the order, times PIXEL_SCALE, bit-identical`, async () => {
    for (const F of [1, 3, 7, 33, 784, 1000]) for (const rows of [1, 3, 32]) {
      const h = await H(v);
      const count = 50;
      const images = randBytes(count * F), labels = randBytes(count).map((x) => x % 10);
      const order = Uint32Array.from({ length: count }, (_, i) => (i * 17 + 5) % count);
      const X = new Float32Array(rows * F), lab = new Int32Array(rows);
      ref.gather(images, labels, order, 9, rows, F, X, lab);
      const pi = h.putU8(images), pl = h.putU8(labels), po = h.putI32(order), px = h.out(rows * F), plo = h.putI32(new Int32Array(rows));
      h.k.gather(pi, pl, po, 9, rows, F, px, plo);
      assert.equal(h.get(px, rows * F), X, `F=${F} rows=${rows}`);
      assert.equal(h.heap.i32(plo, rows).slice(), lab);
      // order 0 = identity
      const identity = Uint32Array.from({ length: count }, (_, i) => i);
      ref.gather(images, labels, identity, 9, rows, F, X, lab);
      h.k.gather(pi, pl, 0, 9, rows, F, px, plo);
      assert.equal(h.get(px, rows * F), X);
      assert.equal(h.heap.i32(plo, rows).slice(), lab);
    }
  });
}

if (!ONLY && !variants.includes('relaxed')) {
  // Node 20 accepts relaxed SIMD only behind a flag: test that build in a child Node.
  test('[relaxed] the relaxed-SIMD build passes the same tests (child node --experimental-wasm-relaxed-simd)', () => {
    const res = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, TESSERA_WASM_VARIANT: 'relaxed' },
      encoding: 'utf8',
    });
    const out = `${res.stdout}\n${res.stderr}`;
    if (/not supported|bad option|unknown flag/i.test(res.stderr) && res.status !== 0) {
      const why = `this Node rejects --experimental-wasm-relaxed-simd, so the relaxed-SIMD build was not tested:\n${res.stderr.trim()}`;
      if (CI) assert.unreachable(`${why}\n(CI=true makes this a failure)`);
      console.error(`\n${'!'.repeat(78)}\n!! wasm-kernels: SKIPPED the relaxed-SIMD build: ${why}\n${'!'.repeat(78)}\n`);
      return;
    }
    assert.is(res.status, 0, `relaxed-SIMD child failed:\n${out}`);
    assert.match(res.stdout, /Passed:\s+\d+/);
  });
}

test.run();
