// Every WGSL kernel (kernels/wgsl) against the TypeScript reference on random
// non-zero inputs at awkward shapes (1, 3, 7, 33, 129; batch 1), on the
// adapter Dawn finds (Mesa's llvmpipe on a machine without a GPU).
//
// Relative error of an output a against the reference b is norm-based:
//   relErr(a, b) = max_i |a_i − b_i| / max_i |b_i|
// and must stay below 1e-5; Adam's parameter update must stay below 1e-4 of
// the update itself (measured against the parameter, ~1000× its step here,
// 1e-5 let a step ~1% wrong pass). Dropout masks and values, gather, ReLU backward
// and the RNG must be bit-identical. Buffers hold more rows than the context
// says (rows < capacity), and rows past `rows` must come back untouched.
//
// No adapter: under CI=true the suite fails; otherwise it is skipped loudly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { relErr, updateErr } from './support/compare.js';
import { kernelRandoms } from './support/random.js';
import * as ref from '../src/runtime/reference/kernels.js';
import { dropoutScale, dropoutThreshold, rngKey } from '../src/runtime/rng.js';
import { requestNodeGpu } from '../src/node/webgpu.js';
import { CTX_STRIDE, KernelSet, grid1d, matmulDispatch, writeCtx, type Constants, type CtxRecord, type KernelName } from '../src/runtime/webgpu/kernels.js';

const TOL = 1e-5;
/** Adam's parameter update, relative to the update (test/support/compare.ts updateErr). */
const UPDATE_TOL = 1e-4;


const { rand, randBytes } = kernelRandoms(11, 2000);

const r = await requestNodeGpu();
const ci = process.env.CI === 'true' || process.env.CI === '1';
let device: GPUDevice | null = null;
if (!r.gpu) {
  console.error(`\n${'!'.repeat(78)}\n!! webgpu-kernels: NO WEBGPU ADAPTER — ${r.reason}\n${'!'.repeat(78)}\n`);
  if (ci) test('a WebGPU adapter is available (required under CI=true)', () => { throw new Error(`no WebGPU adapter: ${r.reason}`); });
  else test.skip('WebGPU kernels (no adapter; CI=true makes this a failure)', () => {});
} else {
  device = await r.adapter.requestDevice({ label: 'tessera kernel tests' });
}

type Input = Float32Array | Uint32Array | { out: number; fill?: number };

/** Run one kernel once: inputs become storage buffers in binding order; returns every buffer's contents afterwards. */
async function run(kernel: KernelName, constants: Constants, inputs: Input[], grid: [number, number], ctx: CtxRecord): Promise<Float32Array[]> {
  const d = device!;
  const ks = new KernelSet(d);
  const pipeline = await ks.pipeline(kernel, constants);
  const bufs = inputs.map((inp) => {
    const data = 'out' in inp ? new Float32Array(Math.max(inp.out, 4)).fill(inp.fill ?? NaN) : inp;
    const size = Math.max(16, Math.ceil(data.byteLength / 16) * 16);
    const b = d.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    d.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
    return { b, bytes: 'out' in inp ? inp.out * 4 : data.byteLength };
  });
  const ctxBuf = d.createBuffer({ size: CTX_STRIDE, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const rec = new ArrayBuffer(CTX_STRIDE);
  writeCtx(new DataView(rec), 0, ctx);
  d.queue.writeBuffer(ctxBuf, 0, rec);
  d.pushErrorScope('validation');
  const group = ks.bindGroup(kernel, 'test', ctxBuf, bufs.map(({ b }) => ({ buffer: b })));
  const enc = d.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group, [0]);
  pass.dispatchWorkgroups(grid[0], grid[1]);
  pass.end();
  const staging = bufs.map(({ b }) => {
    const s = d.createBuffer({ size: b.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    enc.copyBufferToBuffer(b, 0, s, 0, b.size);
    return s;
  });
  d.queue.submit([enc.finish()]);
  const err = await d.popErrorScope();
  if (err) throw new Error(`${kernel}: ${err.message}`);
  const out = await Promise.all(staging.map(async (s, i) => {
    await s.mapAsync(GPUMapMode.READ);
    const a = new Float32Array(s.getMappedRange().slice(0, bufs[i].bytes));
    s.destroy();
    return a;
  }));
  for (const { b } of bufs) b.destroy();
  ctxBuf.destroy();
  return out;
}

const u32 = (f: Float32Array) => new Uint32Array(f.buffer, f.byteOffset, f.length);
const ctxRows = (rows: number, extra: Partial<CtxRecord> = {}): CtxRecord => ({ offset: 0, rows, step: 0, alpha: 0, invRows: 1 / rows, ...extra });
const EXTRA = 2; // buffers hold rows + EXTRA rows; the extra rows must stay untouched

function checkTail(out: Float32Array, from: number, what: string) {
  for (let i = from; i < out.length; i++) if (!Number.isNaN(out[i])) assert.unreachable(`${what}: element ${i} past the batch rows was written`);
}

// (M, K, N): batch 1, awkward sizes, and the flagship's shapes.
const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 3, 7], [3, 7, 3], [7, 33, 10], [33, 129, 7], [3, 129, 33], [33, 7, 129], [7, 1, 33], [1, 129, 129], [33, 33, 1],
  [1, 4, 4], [3, 8, 12], [9, 12, 8], [33, 132, 20], [7, 784, 128], [32, 128, 10], [17, 20, 36],
];

if (device) {
  test('rng: hash_at through the dropout kernel keeps exactly the reference mask (rates 0, 0.2, 0.5, 0.999)', async () => {
    for (const [rows, features] of [[1, 1], [3, 7], [33, 129], [32, 128]]) {
      for (const rate of [0, 0.2, 0.5, 0.999]) {
        const n = rows * features;
        const key = rngKey(42, 16 + rows, 1000 + features);
        const ones = new Float32Array(n).fill(1);
        const [, y] = await run('dropout', { FEATURES: features, THRESHOLD: dropoutThreshold(rate), SCALE: dropoutScale(rate), KEY_SLOT: 5 },
          [ones, { out: n + EXTRA * features }], grid1d(n), ctxRows(rows, { keys: [0, 0, 0, 0, 0, key] }));
        const mask = ref.dropoutMask(n, key, rate);
        for (let i = 0; i < n; i++) if ((y[i] !== 0 ? 1 : 0) !== mask[i]) assert.unreachable(`mask differs at ${i} (rows ${rows}, features ${features}, rate ${rate})`);
        checkTail(y, n, 'dropout');
      }
    }
  });

  test('dropout: values bit-identical to the reference (forward and the same kernel as backward)', async () => {
    for (const [rows, features] of [[1, 3], [7, 33], [33, 129]]) {
      const n = rows * features;
      const key = rngKey(7, 18, 3);
      const x = rand(n, 3);
      const [, y] = await run('dropout', { FEATURES: features, THRESHOLD: dropoutThreshold(0.2), SCALE: dropoutScale(0.2), KEY_SLOT: 0 },
        [x, { out: n }], grid1d(n), ctxRows(rows, { keys: [key] }));
      const want = new Float32Array(n);
      ref.dropout(x, want, n, key, 0.2);
      assert.equal(Array.from(y), Array.from(want));
    }
  });

  test('gather: bytes through the order, × PIXEL_SCALE, bit-identical (ordered and in sequence)', async () => {
    for (const F of [1, 3, 7, 33, 784]) {
      const count = 37;
      const images = randBytes(count * F + 3);
      const labels = randBytes(count + 3);
      const order = Uint32Array.from({ length: count }, (_, i) => (i * 17 + 5) % count);
      const pack = (b: Uint8Array) => { const p = new Uint8Array(Math.ceil(b.length / 4) * 4); p.set(b); return new Uint32Array(p.buffer); };
      for (const [ordered, offset, rows] of [[true, 3, 7], [false, 30, 7], [true, 0, 1]] as const) {
        const [, , , x, y] = await run('gather', { F, ORDERED: ordered }, [pack(images), pack(labels), order, { out: (rows + EXTRA) * F }, { out: rows + EXTRA }],
          [Math.ceil(Math.ceil(F / 4) / 64), rows], ctxRows(rows, { offset }));
        const want = new Float32Array(rows * F);
        const wantLabels = new Int32Array(rows);
        ref.gather(images, labels, ordered ? order : Uint32Array.from({ length: count }, (_, i) => i), offset, rows, F, want, wantLabels);
        assert.equal(Array.from(x.subarray(0, rows * F)), Array.from(want), `pixels F=${F} ordered=${ordered}`);
        assert.equal(Array.from(u32(y).subarray(0, rows)), Array.from(wantLabels), `labels F=${F}`);
        checkTail(x, rows * F, 'gather');
      }
    }
  });

  for (const variant of ['dense_forward', 'dense_forward_vec4', 'dense_forward_tiled'] as const) {
    test(`${variant}: Y = X·W + b (bias, ReLU, no bias) at awkward shapes`, async () => {
      for (const [M, K, N] of SHAPES) {
        if (variant === 'dense_forward_vec4' && (K % 4 || N % 4)) continue;
        const X = rand((M + EXTRA) * K), W = rand(K * N), b = rand(N, 0.5);
        for (const [bias, relu] of [[true, true], [true, false], [false, false]]) {
          const { constants, grid } = matmulDispatch(variant, M, K, N);
          const consts: Constants = { K, N, HAS_BIAS: bias, RELU: relu, ...constants };
          const [, , , Y] = await run(variant, consts, [X, W, b, { out: (M + EXTRA) * N }], grid, ctxRows(M));
          const want = new Float32Array(M * N);
          ref.denseForward(X, W, bias ? b : null, want, M, K, N, relu);
          const e = relErr(Y.subarray(0, M * N), want);
          assert.ok(e < TOL, `${variant} ${M}×${K}×${N} bias=${bias} relu=${relu}: relErr ${e}`);
          checkTail(Y, M * N, variant);
        }
      }
    });
  }

  for (const variant of ['dense_backward_weights', 'dense_backward_weights_vec4'] as const) {
    test(`${variant}: dW = Xᵀ·dY at awkward shapes (only the batch rows count)`, async () => {
      for (const [M, K, N] of SHAPES) {
        if (variant === 'dense_backward_weights_vec4' && (K % 4 || N % 4)) continue;
        const X = rand((M + EXTRA) * K), dY = rand((M + EXTRA) * N);
        const { constants, grid } = matmulDispatch(variant, M, K, N);
        const [, , dW] = await run(variant, { K, N, ...constants }, [X, dY, { out: K * N }], grid, ctxRows(M));
        const want = new Float32Array(K * N);
        ref.denseBackwardWeights(X, dY, want, null, M, K, N);
        const e = relErr(dW, want);
        assert.ok(e < TOL, `${variant} ${M}×${K}×${N}: relErr ${e}`);
      }
    });
  }

  test('bias_grad: db = column sums of dY', async () => {
    for (const [M, , N] of SHAPES) {
      const dY = rand((M + EXTRA) * N);
      const [, db] = await run('bias_grad', { N }, [dY, { out: N }], [Math.ceil(N / 64), 1], ctxRows(M));
      const want = new Float32Array(N);
      ref.denseBackwardWeights(new Float32Array(M), dY, new Float32Array(N), want, M, 1, N);
      assert.ok(relErr(db, want) < TOL, `bias_grad ${M}×${N}`);
    }
  });

  for (const variant of ['dense_backward_input', 'dense_backward_input_vec4'] as const) {
    test(`${variant}: dX = dY·Wᵀ with and without the fused ReLU mask`, async () => {
      for (const [M, K, N] of SHAPES) {
        if (variant === 'dense_backward_input_vec4' && (K % 4 || N % 4)) continue;
        const dY = rand((M + EXTRA) * N), W = rand(K * N), reluOut = rand((M + EXTRA) * K).map((v) => (v < 0 ? 0 : v));
        for (const mask of [false, true]) {
          const { constants, grid } = matmulDispatch(variant, M, K, N);
          const [, , , dX] = await run(variant, { K, N, RELU_MASK: mask, ...constants }, [dY, W, reluOut, { out: (M + EXTRA) * K }], grid, ctxRows(M));
          const want = new Float32Array(M * K);
          ref.denseBackwardInput(dY, W, want, mask ? reluOut : null, M, K, N);
          const e = relErr(dX.subarray(0, M * K), want);
          assert.ok(e < TOL, `${variant} ${M}×${K}×${N} mask=${mask}: relErr ${e}`);
          checkTail(dX, M * K, variant);
        }
      }
    });
  }

  test('relu_backward is exact', async () => {
    for (const [rows, features] of [[1, 1], [3, 7], [33, 129]]) {
      const n = rows * features;
      const dY = rand(n), Y = rand(n).map((v) => (v < 0 ? 0 : v));
      const [, , dX] = await run('relu_backward', { FEATURES: features }, [dY, Y, { out: n + features }], grid1d(n), ctxRows(rows));
      const want = new Float32Array(n);
      ref.reluBackward(dY, Y, want, n);
      assert.equal(Array.from(dX.subarray(0, n)), Array.from(want));
      checkTail(dX, n, 'relu_backward');
    }
  });

  test('softmax_xent: loss sum, correct count, dLogits; accumulates; no-grad variant', async () => {
    for (const [M, C] of [[1, 1], [1, 10], [3, 7], [33, 10], [129, 3], [7, 129]]) {
      const logits = rand(M * C, 4);
      const labels = Uint32Array.from({ length: M }, (_, i) => (i * 7 + 3) % C);
      // Make some rows correct so the count is exercised.
      for (let i = 0; i < M; i += 2) logits[i * C + labels[i]] = 9;
      const start = new Uint32Array([5, 3, 2, 1]);
      const [, , dl, metrics] = await run('softmax_xent', { C, HAS_GRAD: true }, [logits, labels, { out: M * C }, start], [1, 1], ctxRows(M));
      const want = new Float32Array(M * C);
      const { lossSum, correct } = ref.softmaxXent(logits, labels, want, M, C, M);
      const m = u32(metrics);
      const got = m[0] - 5 + (m[1] - 3) / 16777216;
      assert.ok(Math.abs(got - lossSum) <= 1e-5 * Math.max(1, lossSum), `loss ${got} vs ${lossSum} (M=${M}, C=${C})`);
      assert.is(m[2] - 2, correct, 'correct');
      assert.is(m[3] - 1, M, 'rows');
      assert.ok(relErr(dl, want) < TOL, `dLogits M=${M} C=${C}: ${relErr(dl, want)}`);
      const [, , untouched, m2] = await run('softmax_xent', { C, HAS_GRAD: false }, [logits, labels, { out: M * C }, new Uint32Array(4)], [1, 1], ctxRows(M));
      checkTail(untouched, 0, 'softmax_xent without gradient');
      assert.is(u32(m2)[2], correct);
    }
  });

  test('softmax_xent: the fixed-point loss accumulator carries across many batches', async () => {
    const M = 32, C = 10;
    const logits = rand(M * C, 4), labels = Uint32Array.from({ length: M }, (_, i) => i % C);
    const { lossSum } = ref.softmaxXent(logits, labels, null, M, C, M);
    // Start just below a carry: fraction 2^24 − 1.
    const [, , , m] = await run('softmax_xent', { C, HAS_GRAD: false }, [logits, labels, { out: 4 }, new Uint32Array([1000, 16777215, 0, 0])], [1, 1], ctxRows(M));
    const w = u32(m);
    assert.ok(w[1] < 16777216, 'fraction normalised');
    assert.ok(Math.abs(w[0] + w[1] / 16777216 - (1000 + 16777215 / 16777216 + lossSum)) < 1e-4);
  });

  test('softmax: probabilities written at the batch offset', async () => {
    for (const [M, C] of [[1, 1], [3, 10], [65, 7]]) {
      const logits = rand(M * C, 5);
      const offset = 2;
      const [, probs] = await run('softmax', { C }, [logits, { out: (offset + M + 1) * C }], [Math.ceil(M / 64), 1], ctxRows(M, { offset }));
      const want = new Float32Array(M * C);
      ref.softmax(logits, want, M, C);
      checkTail(probs.subarray(0, offset * C), 0, 'softmax before offset');
      assert.ok(relErr(probs.subarray(offset * C, (offset + M) * C), want) < TOL);
      checkTail(probs, (offset + M) * C, 'softmax after rows');
    }
  });

  test('adam: fused update matches the reference with the host-computed step size', async () => {
    const h = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
    for (const n of [4, 12, 132, 1000]) {
      const p = rand(n), g = rand(n, 0.1), m = rand(n, 0.01), v = rand(n, 0.001, true);
      for (const t of [1, 7, 1875]) {
        const alpha = ref.adamStepSize(h, t);
        const [P, , Mo, V] = await run('adam', { COUNT4: n / 4, B1: h.beta1, B2: h.beta2, B1C: Math.fround(1 - h.beta1), B2C: Math.fround(1 - h.beta2), EPS: h.epsilon },
          [p, g, m, v], [Math.min(64, Math.ceil(n / 4 / 64)), 1], { offset: 0, rows: 1, step: t - 1, alpha, invRows: 1 });
        const [wp, wm, wv] = [p.slice(), m.slice(), v.slice()];
        ref.adam(wp, g, wm, wv, n, alpha, h.beta1, h.beta2, h.epsilon);
        // The step is ~1e-3 of p: its error is measured against the step (updateErr), not against p.
        const e = updateErr(P, p, wp);
        assert.ok(e < UPDATE_TOL, `p n=${n} t=${t}: error ${e} of the step`);
        assert.ok(relErr(Mo, wm) < TOL, `m n=${n} t=${t}`);
        assert.ok(relErr(V, wv) < TOL, `v n=${n} t=${t}`);
      }
    }
  });

  test('errors: a kernel that cannot be built is reported naming the kernel', async () => {
    const ks = new KernelSet(device!);
    try {
      await ks.pipeline('dense_forward', { K: 4, N: 4, WG_X: 64, WG_Y: 64 }); // 4096 invocations > the limit
      assert.unreachable('pipeline creation should have failed');
    } catch (e) {
      assert.match((e as Error).message, /WebGPU \w+ error in kernel dense_forward/);
    }
  });
}

test.after(() => device?.destroy());
test.run();
