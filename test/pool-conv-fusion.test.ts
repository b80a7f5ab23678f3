// The one-thread wasm plan's fusion of a 2×2/2 max pool's backward with the
// conv dW below it (src/runtime/wasm/fuse.ts, kernels/as/pool_conv_weights.ts):
// - the fused kernel gives the bits of max_pool2d_backward then
//   conv2d_backward_weights over the whole batch (dy, dw, db), and the
//   TypeScript references' values within 1e-5, at awkward shapes: odd batch
//   sizes (a last chunk of one image), odd conv outputs (a pool row and
//   column left out), 5×5 and 3-channel windows, stride 2, dilation 2,
//   "same" padding (the im2col path), outC not a multiple of 16, sparse
//   input pixels, no bias;
// - the MNIST convnet's one-thread plan fuses exactly its first conv's pair;
// - an epoch of that convnet gives the same losses, metrics and weights,
//   bit for bit, with the fusion and without it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { relErr } from './support/compare.js';
import { kernelRandoms } from './support/random.js';
import { loadModelConfig } from '../src/config/index.js';
import { takeExamples } from '../src/data/idx.js';
import { loadMnist } from '../src/data/node.js';
import { window2d, type Padding } from '../src/ops/conv-geometry.js';
import { conv2dBackwardWeights } from '../src/ops/conv2d_backward_weights.js';
import type { Conv2dGeometry } from '../src/ops/conv2d_shared.js';
import { maxPool2dBackward, type PoolGeometry } from '../src/ops/pool-reference.js';
import { WasmBackend } from '../src/runtime/backends/wasm.js';
import { fusePoolConvWeights } from '../src/runtime/wasm/fuse.js';
import { trainRecords } from '../src/runtime/wasm/plan.js';
import { Heap, instantiateKernels } from '../src/runtime/wasm/module.js';
import { Model } from '../src/runtime/model.js';
import { compileGraph } from '../src/runtime/graph.js';

const { rand } = kernelRandoms(11, 4000);
const k = await instantiateKernels('simd');
type Fn = (...a: number[]) => void;
const K = k as unknown as Record<'maxPoolConvWeights' | 'maxPool2dBackward' | 'conv2dBackwardWeights', Fn>;

interface Case { B: number; H: number; W: number; inC: number; outC: number; k: number; s: number; d: number; padding: Padding; bias: boolean; sparse: boolean }
const CASES: Case[] = [
  { B: 3, H: 28, W: 28, inC: 1, outC: 32, k: 3, s: 1, d: 1, padding: 'valid', bias: true, sparse: true }, // the convnet's first conv, 3 images
  { B: 1, H: 9, W: 11, inC: 1, outC: 8, k: 3, s: 1, d: 1, padding: 'valid', bias: true, sparse: false }, // 7×9 out: a pool row and column left out
  { B: 5, H: 12, W: 10, inC: 1, outC: 12, k: 5, s: 1, d: 1, padding: 'valid', bias: false, sparse: false }, // 5×5, outC 12, no bias
  { B: 2, H: 10, W: 9, inC: 3, outC: 20, k: 3, s: 2, d: 1, padding: 'same', bias: true, sparse: false }, // stride 2, odd "same" padding
  { B: 3, H: 13, W: 12, inC: 2, outC: 4, k: 3, s: 1, d: 2, padding: 'valid', bias: true, sparse: true }, // dilation 2, sparse
];

function geometryOf(c: Case): { conv: Conv2dGeometry; pool: PoolGeometry } {
  const conv = { ...window2d(c.H, c.W, [c.k, c.k], [c.s, c.s], [c.d, c.d], c.padding), inC: c.inC, outC: c.outC };
  const pool = { ...window2d(conv.outH, conv.outW, [2, 2], [2, 2], [1, 1], 'valid'), channels: c.outC };
  return { conv, pool };
}

const convArgs = (B: number, g: Conv2dGeometry) => [B, g.inH, g.inW, g.inC, g.outH, g.outW, g.outC, g.kH, g.kW, g.strideH, g.strideW, g.dilationH, g.dilationW, g.padTop, g.padLeft];
const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

for (const c of CASES) {
  test(`fused pool backward + conv dW: ${c.B}×${c.H}×${c.W}×${c.inC} → ${c.outC}, ${c.k}×${c.k} stride ${c.s} dilation ${c.d} ${c.padding}${c.bias ? '' : ', no bias'}${c.sparse ? ', sparse pixels' : ''}`, () => {
    const { conv, pool } = geometryOf(c);
    assert.ok(pool.outH > 0 && pool.outW > 0);
    const nx = c.B * c.H * c.W * c.inC, ny = c.B * conv.outH * conv.outW * c.outC, np = c.B * pool.outH * pool.outW * c.outC, nw = c.k * c.k * c.inC * c.outC;
    const x = rand(nx).map((v, i) => (c.sparse && i % 5 < 3 ? 0 : Math.abs(v)));
    // The conv's output on a coarse grid (ties in the windows) and ReLU'd (zeros), as the pool sees it.
    const y = rand(ny, 2.5).map((v) => Math.max(0, Math.round(v)));
    const dp = rand(np);
    const heap = new Heap(k);
    const put = (a: Float32Array) => { const p = heap.alloc(a.byteLength); heap.f32(p, a.length).set(a); return p; };
    const [px, py, pdp] = [put(x), put(y), put(dp)];
    const outs = [ny, nw, c.outC, ny, nw, c.outC].map((n) => heap.alloc(4 * n));
    const garbage = (p: number, n: number) => heap.f32(p, n).fill(Number.NaN);
    outs.forEach((p, i) => garbage(p, [ny, nw, c.outC][i % 3]!));
    const [dy1, dw1, db1, dy2, dw2, db2] = outs as [number, number, number, number, number, number];
    const sparse = c.sparse ? 1 : 0;
    K.maxPoolConvWeights(pdp, py, dy1, px, dw1, c.bias ? db1 : 0, ...convArgs(c.B, conv), sparse);
    K.maxPool2dBackward(pdp, py, dy2, c.B, pool.inH, pool.inW, pool.outH, pool.outW, 2, 2, 2, 2, 0, 0, c.outC);
    K.conv2dBackwardWeights(px, dy2, dw2, c.bias ? db2 : 0, ...convArgs(c.B, conv), sparse);
    const read = (p: number, n: number) => heap.f32(p, n).slice();
    assert.ok(bits(read(dy1, ny)).equals(bits(read(dy2, ny))), 'dy differs from the unfused records');
    assert.ok(bits(read(dw1, nw)).equals(bits(read(dw2, nw))), 'dw differs from the unfused records');
    if (c.bias) assert.ok(bits(read(db1, c.outC)).equals(bits(read(db2, c.outC))), 'db differs from the unfused records');
    else assert.ok(read(db1, c.outC).every(Number.isNaN), 'db was written without a bias');
    // Against the TypeScript references.
    const dyRef = new Float32Array(ny), dwRef = new Float32Array(nw), dbRef = new Float32Array(c.outC);
    maxPool2dBackward(dp, y, dyRef, c.B, pool);
    conv2dBackwardWeights(x, dyRef, dwRef, dbRef, c.B, conv);
    assert.ok(bits(read(dy1, ny)).equals(bits(dyRef)), 'dy differs from the reference');
    const e = relErr(read(dw1, nw), dwRef);
    assert.ok(e < 1e-5, `dw relative error ${e}`);
    if (c.bias) assert.ok(relErr(read(db1, c.outC), dbRef) < 1e-5, 'db');
  });
}

const cnn = await loadModelConfig('models/mnist-cnn.yaml');

test('the convnet\'s one-thread plan fuses its first conv\'s pool backward and dW, and nothing else', () => {
  const graph = compileGraph(cnn, 128);
  let next = 64;
  const layout = { ptr: () => (next += 64), transposed: () => (next += 64), labels: 0 };
  const apart = trainRecords(graph, layout, new Set(), false), fused = trainRecords(graph, layout, new Set(), true);
  const kinds = (rs: typeof apart) => rs.map((r) => r.op.kind);
  assert.is(kinds(apart).filter((x) => x === 'max_pool_conv_weights').length, 0);
  assert.is(kinds(fused).filter((x) => x === 'max_pool_conv_weights').length, 1);
  assert.is(fused.length, apart.length - 1);
  const f = fused.find((r) => r.op.kind === 'max_pool_conv_weights')!;
  assert.is((f.op.conv as { layer: string }).layer, 'conv2d_1');
  // The second conv (3×3×32 windows: 288 taps) keeps its records.
  assert.ok(apart.filter((r) => r.op.kind === 'conv2d_backward_weights').length === 2 && fused.filter((r) => r.op.kind === 'conv2d_backward_weights').length === 1);
  // A user's kernel for either op (code + 128) leaves the pair apart.
  const custom = apart.map((r) => (r.op.kind === 'max_pool2d_backward' ? { ...r, words: [r.words[0]! + 128, ...r.words.slice(1)] } : r));
  assert.is(fusePoolConvWeights(custom).length, apart.length);
});

test('an epoch of the convnet on 640 images: the same losses, metrics and weights with the fusion and without it', async () => {
  const mnist = await loadMnist(cnn.dataset, 'models');
  const run = async (fuseRecords: boolean) => {
    const spec = structuredClone(cnn);
    spec.training.epochs = 1;
    const backend = await WasmBackend.create({ threads: 1, fuseRecords });
    try {
      const model = await Model.create(spec, { backend });
      const r = await model.fit(takeExamples(mnist.train, 640), { test: takeExamples(mnist.test, 200) });
      return { epoch: { ...r.epochs[0]!, seconds: 0 }, params: await backend.readParams() };
    } finally {
      backend.dispose();
    }
  };
  const [a, b] = [await run(true), await run(false)];
  assert.equal(a.epoch, b.epoch);
  assert.is(a.params.length, b.params.length);
  a.params.forEach((p, i) => assert.ok(bits(p).equals(bits(b.params[i]!)), `parameter ${i} differs`));
});

test.run();
