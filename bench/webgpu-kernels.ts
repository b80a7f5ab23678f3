// WGSL kernel throughput at the flagship model's shapes (784→128→10, batch
// 32 and 256) on the adapter Dawn finds — Mesa's llvmpipe on a machine
// without a GPU. Each figure times R back-to-back dispatches in one compute
// pass (one submit, one wait) and divides; the median of 5 repeats is shown
// with min–max. GB/s counts each operand read once and the output written
// once (the minimum traffic).
//
//   node --import tsx bench/webgpu-kernels.ts [--quick] [--conv | --dense] [--no-direct]
//
// --conv times only the MNIST convnet's kernels (models/mnist-cnn.yaml at
// batch 128: each conv's forward, dX where the step computes it, dW and db,
// and the pooling; bench/webgpu-conv.ts), --dense only the flagship's.
// --no-direct leaves out the direct conv kernels (seconds per dispatch);
// --all-ops (with --conv) times every other op of the convnet's step too.
//
// The matmul variants: dense_forward_vec4 (4×4 outputs per invocation in vec4
// registers, no workgroup memory: the default), dense_forward (the same with
// scalar loads, for shapes that are not multiples of 4) and
// dense_forward_tiled (workgroup-memory tiles with barriers).
import { cpus } from 'node:os';
import { requestNodeGpu } from '../src/node/webgpu.js';
import { CTX_STRIDE, KernelSet, grid1d, matmulDispatch, writeCtx, type Constants, type KernelName } from '../src/runtime/webgpu/kernels.js';
import { describeAdapter } from '../src/runtime/backends/webgpu.js';
import { convKernels } from './webgpu-conv.js';

const quick = process.argv.includes('--quick');
const REPEATS = quick ? 3 : 5;
const only = process.argv.includes('--conv') ? 'conv' : process.argv.includes('--dense') ? 'dense' : null;

const r = await requestNodeGpu();
if (!r.gpu) {
  console.error(`no WebGPU adapter: ${r.reason}`);
  process.exit(1);
}
const device = await r.adapter.requestDevice({ label: 'tessera bench' });
const ks = new KernelSet(device);
console.log(`adapter: ${describeAdapter(r.adapterInfo, r.backend, r.featureLevel)}`);
console.log(`host: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} logical CPUs, Node ${process.version}`);
console.log('(on a software adapter the "GPU" is these CPUs: compare with the CPU roofline, e.g. ~49 GFLOP/s per core for 128-bit WASM SIMD in DESIGN.md)\n');

const buffers: GPUBuffer[] = [];
function buf(floats: number, seed = 1): GPUBuffer {
  const a = new Float32Array(Math.max(4, floats));
  for (let i = 0; i < a.length; i++) a[i] = (((i * 2654435761 + seed) >>> 8) % 1000) / 1000 - 0.5;
  const b = device.createBuffer({ size: a.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(b, 0, a);
  buffers.push(b);
  return b;
}
const ctx = device.createBuffer({ size: CTX_STRIDE, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });

async function time(kernel: KernelName, constants: Constants, bindings: GPUBuffer[], grid: [number, number], rows: number): Promise<number[]> {
  const pipeline = await ks.pipeline(kernel, constants);
  const group = ks.bindGroup(kernel, 'bench', ctx, bindings.map((b) => ({ buffer: b })));
  return timeDispatch(pipeline, group, grid, rows);
}

/** Milliseconds per dispatch of one pipeline (sorted repeats), ~20 ms of dispatches per repeat (at least one). */
async function timeDispatch(pipeline: GPUComputePipeline, group: GPUBindGroup, grid: [number, number], rows: number): Promise<number[]> {
  const rec = new ArrayBuffer(CTX_STRIDE);
  writeCtx(new DataView(rec), 0, { offset: 0, rows, step: 0, alpha: 1e-3, invRows: 1 / rows, keys: [12345] });
  device.queue.writeBuffer(ctx, 0, rec);
  const once = async (reps: number) => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group, [0]);
    for (let i = 0; i < reps; i++) pass.dispatchWorkgroups(grid[0], grid[1]);
    pass.end();
    const t0 = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return (performance.now() - t0) / reps;
  };
  const first = await once(1);
  const reps = Math.max(1, Math.round(20 / Math.max(0.02, first))); // ~20 ms per repeat
  const out: number[] = [];
  for (let i = 0; i < REPEATS; i++) out.push(await once(reps));
  return out.sort((a, b) => a - b);
}

const fmt = (ms: number[], flops: number, bytes: number) => {
  const med = ms[Math.floor(ms.length / 2)];
  const g = (t: number) => flops / t / 1e6;
  return `${(med * 1000).toFixed(0).padStart(6)} µs  ${g(med).toFixed(2).padStart(6)} GFLOP/s (${g(ms[ms.length - 1]).toFixed(2)}–${g(ms[0]).toFixed(2)})  ${(bytes / med / 1e6).toFixed(2).padStart(6)} GB/s`;
};

if (only === 'conv') {
  await convKernels({ device, kernels: ks, ctx, timeDispatch, repeats: REPEATS, direct: !process.argv.includes('--no-direct'), allOps: process.argv.includes('--all-ops') });
  device.destroy();
  process.exit(0);
}

for (const M of [32, 256]) {
  console.log(`batch ${M}`);
  for (const [K, N] of [[784, 128], [128, 10]]) {
    const X = buf(M * K, 1), W = buf(K * N, 2), b = buf(N, 3), Y = buf(M * N, 4), dY = buf(M * N, 5), dW = buf(K * N, 6), dX = buf(M * K, 7);
    const flops = 2 * M * K * N;
    const mmBytes = 4 * (M * K + K * N + M * N);
    const rows: [string, KernelName, Constants, GPUBuffer[], [number, number]][] = [];
    const mm = (label: string, kernel: KernelName, consts: Constants, binds: GPUBuffer[]) => {
      const { constants, grid } = matmulDispatch(kernel, M, K, N);
      rows.push([label, kernel, { ...consts, ...constants }, binds, grid]);
    };
    const vec4 = K % 4 === 0 && N % 4 === 0;
    if (vec4) mm('dense_forward_vec4 (default)', 'dense_forward_vec4', { K, N, HAS_BIAS: true, RELU: true }, [X, W, b, Y]);
    mm(`dense_forward (scalar loads)${vec4 ? '' : ' (default)'}`, 'dense_forward', { K, N, HAS_BIAS: true, RELU: true }, [X, W, b, Y]);
    mm('dense_forward_tiled', 'dense_forward_tiled', { K, N, HAS_BIAS: true, RELU: true }, [X, W, b, Y]);
    if (vec4) mm('dW = Xᵀ·dY vec4 (default)', 'dense_backward_weights_vec4', { K, N }, [X, dY, dW]);
    mm(`dW = Xᵀ·dY scalar${vec4 ? '' : ' (default)'}`, 'dense_backward_weights', { K, N }, [X, dY, dW]);
    if (vec4) mm('dX = dY·Wᵀ (+ReLU mask) vec4 (default)', 'dense_backward_input_vec4', { K, N, RELU_MASK: true }, [dY, W, X, dX]);
    mm(`dX = dY·Wᵀ (+ReLU mask) scalar${vec4 ? '' : ' (default)'}`, 'dense_backward_input', { K, N, RELU_MASK: true }, [dY, W, X, dX]);
    for (const [label, kernel, consts, binds, grid] of rows) {
      const ms = await time(kernel, consts, binds, grid, M);
      console.log(`  ${`${M}×${K}×${N}`.padEnd(12)} ${label.padEnd(30)} ${fmt(ms, flops, mmBytes)}`);
    }
  }
  // The elementwise and reduction kernels of one flagship step.
  const H = 128;
  const a = buf(M * H, 8), c = buf(M * H, 9), o = buf(M * H, 10);
  const elem: [string, KernelName, Constants, GPUBuffer[], [number, number], number][] = [
    ['dropout 0.2', 'dropout', { FEATURES: H, THRESHOLD: 3355443, SCALE: Math.fround(1 / 0.8), KEY_SLOT: 0 }, [a, o], grid1d(M * H), 8 * M * H],
    ['relu_backward', 'relu_backward', { FEATURES: H }, [a, c, o], grid1d(M * H), 12 * M * H],
    ['bias_grad (db)', 'bias_grad', { N: H }, [a, o], [Math.ceil(H / 64), 1], 4 * M * H],
  ];
  const logits = buf(M * 10, 11), labels = device.createBuffer({ size: Math.max(16, M * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const metrics = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  elem.push(['softmax_xent (C=10)', 'softmax_xent', { C: 10, HAS_GRAD: true }, [logits, labels, buf(M * 10), metrics], [1, 1], 8 * M * 10]);
  for (const [label, kernel, consts, binds, grid, bytes] of elem) {
    const ms = await time(kernel, consts, binds, grid, M);
    console.log(`  ${`${M}×${H}`.padEnd(12)} ${label.padEnd(30)} ${(ms[Math.floor(ms.length / 2)] * 1000).toFixed(0).padStart(6)} µs  ${(bytes / ms[Math.floor(ms.length / 2)] / 1e6).toFixed(2)} GB/s`);
  }
  console.log();
}
// Adam over the flagship's 101,770 parameters (padded arena), one dispatch.
{
  const n4 = 25472;
  const p = buf(n4 * 4), g = buf(n4 * 4), m = buf(n4 * 4), v = buf(n4 * 4, 3);
  const ms = await time('adam', { COUNT4: n4, B1: 0.9, B2: 0.999, B1C: Math.fround(0.1), B2C: Math.fround(0.001), EPS: 1e-7 }, [p, g, m, v], [Math.min(64, Math.ceil(n4 / 64)), 1], 1);
  const med = ms[Math.floor(ms.length / 2)];
  console.log(`adam, 101,888 floats (one dispatch)            ${(med * 1000).toFixed(0).padStart(6)} µs  ${(28 * n4 * 4 / med / 1e6).toFixed(2)} GB/s`);
}
if (only !== 'dense') {
  console.log();
  await convKernels({ device, kernels: ks, ctx, timeDispatch, repeats: REPEATS, direct: !process.argv.includes('--no-direct') });
}
for (const b of buffers) b.destroy();
device.destroy();
