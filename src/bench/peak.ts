// The machine's ceilings as each backend sees them, measured in the same
// run: an FMA-bound probe (independent multiply-add chains, no memory
// traffic) and a copy-bound probe (z = x + y over arrays far larger than the
// caches, 12 bytes per element). `% of peak` in the bench table is a
// kernel's GFLOP/s over the FMA probe, or its GB/s over the copy probe, on
// the same backend.
//
// A ceiling is the best the machine showed, so the probes report their
// fastest repeat (stats.min), not the median: a median ceiling dragged down
// by a noisy neighbour made kernels read as over 100% of peak.

import { Heap, instantiateKernels, type WasmVariant } from '../runtime/wasm/module.js';
import type { GpuSession } from '../runtime/webgpu/device.js';
import { withErrorScopes } from '../runtime/webgpu/errors.js';
import type { BenchBackend } from './runner.js';
import { timeBatched, timeSync, type Stats, type TimingOptions } from './stats.js';

export interface Peak {
  backend: BenchBackend;
  /** Multiply-add ceiling, GFLOP/s (fastest repeat). */
  gflops: number;
  /** Streaming ceiling, GB/s (fastest repeat). */
  gbps: number;
  flopsStats: Stats;
  copyStats: Stats;
  /** How the two probes were run. */
  method: string;
}

const STREAM_FLOATS = 1 << 22; // 16 MiB per array: past the L2 of one core

/** JavaScript: 8 independent scalar multiply-add chains; a typed-array z = x + y loop. */
export async function peakJs(o: TimingOptions = {}): Promise<Peak> {
  const iters = 1 << 16;
  let sink = 0;
  const fma = () => {
    let a0 = 1, a1 = 1.1, a2 = 1.2, a3 = 1.3, a4 = 1.4, a5 = 1.5, a6 = 1.6, a7 = 1.7;
    const m = 0.999999, c = 1e-7;
    for (let i = 0; i < iters; i++) {
      a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c;
      a4 = a4 * m + c; a5 = a5 * m + c; a6 = a6 * m + c; a7 = a7 * m + c;
    }
    sink += a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
  };
  const flopsStats = await timeSync(fma, o);
  const x = new Float32Array(STREAM_FLOATS).fill(1), y = new Float32Array(STREAM_FLOATS).fill(2), z = new Float32Array(STREAM_FLOATS);
  const copy = () => { for (let i = 0; i < STREAM_FLOATS; i++) z[i] = x[i]! + y[i]!; };
  const copyStats = await timeSync(copy, { ...o, targetMs: Math.max(o.targetMs ?? 25, 40) });
  if (sink === 42) console.log(''); // keep the chains alive
  return { backend: 'js', gflops: (16 * iters) / flopsStats.min / 1e9, gbps: (12 * STREAM_FLOATS) / copyStats.min / 1e9, flopsStats, copyStats, method: 'scalar multiply-add chains; Float32Array z = x + y' };
}

/** WebAssembly: the peakMadd and streamAdd probes of kernels/as/bench.ts (f32x4; fused in the relaxed build). */
export async function peakWasm(variant: WasmVariant, o: TimingOptions = {}): Promise<Peak> {
  const k = await instantiateKernels(variant);
  const iters = 1 << 16;
  // V8 first runs WebAssembly in its baseline compiler and tiers a function
  // up only after many calls (a running call is never replaced), so a probe
  // of a few long calls could time baseline code: many short calls first.
  for (let i = 0; i < 5000; i++) k.peakMadd(16);
  const flopsStats = await timeSync(() => { k.peakMadd(iters); }, o);
  const heap = new Heap(k);
  const x = heap.alloc(STREAM_FLOATS * 4), y = heap.alloc(STREAM_FLOATS * 4), z = heap.alloc(STREAM_FLOATS * 4);
  heap.f32(x, STREAM_FLOATS).fill(1);
  heap.f32(y, STREAM_FLOATS).fill(2);
  for (let i = 0; i < 5000; i++) k.streamAdd(x, y, z, 64);
  const copyStats = await timeSync(() => k.streamAdd(x, y, z, STREAM_FLOATS), { ...o, targetMs: Math.max(o.targetMs ?? 25, 40) });
  return {
    backend: 'wasm', gflops: (96 * iters) / flopsStats.min / 1e9, gbps: (12 * STREAM_FLOATS) / copyStats.min / 1e9, flopsStats, copyStats,
    method: `f32x4 ${variant === 'relaxed' ? 'relaxed FMA' : 'mul+add'} chains (12 independent); f32x4 z = x + y`,
  };
}

const FMA_WGSL = /* wgsl */ `
override ITERS: u32 = 4096u;
@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  let m = vec4<f32>(0.999999);
  let c = vec4<f32>(f32(i) * 1e-9);
  var a0 = vec4<f32>(1.0); var a1 = vec4<f32>(1.1); var a2 = vec4<f32>(1.2); var a3 = vec4<f32>(1.3);
  var a4 = vec4<f32>(1.4); var a5 = vec4<f32>(1.5); var a6 = vec4<f32>(1.6); var a7 = vec4<f32>(1.7);
  for (var k = 0u; k < ITERS; k++) {
    a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
    a4 = fma(a4, m, c); a5 = fma(a5, m, c); a6 = fma(a6, m, c); a7 = fma(a7, m, c);
  }
  out[i] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}`;

const COPY_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> y: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> z: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i < arrayLength(&z)) { z[i] = x[i] + y[i]; }
}`;

/**
 * WebGPU: a vec4 fma kernel (8 chains per invocation) and a vec4 z = x + y
 * kernel, many dispatches per submit; waits go through the session (device
 * loss, watchdog) like every other wait on the GPU.
 */
export async function peakWebGpu(session: GpuSession, o: TimingOptions = {}): Promise<Peak> {
  const device = session.device;
  const invocations = 64 * 256, iters = 1024;
  const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  const pipe = (code: string, constants: Record<string, number> = {}) => withErrorScopes(device, 'peak probe', () =>
    device.createComputePipelineAsync({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main', constants } }));
  const fmaPipe = await pipe(FMA_WGSL, { ITERS: iters });
  const fmaOut = device.createBuffer({ size: invocations * 16, usage: storage });
  const fmaGroup = device.createBindGroup({ layout: fmaPipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: fmaOut } }] });
  const copyPipe = await pipe(COPY_WGSL);
  const vecs = STREAM_FLOATS / 4;
  const bx = device.createBuffer({ size: STREAM_FLOATS * 4, usage: storage }), by = device.createBuffer({ size: STREAM_FLOATS * 4, usage: storage }), bz = device.createBuffer({ size: STREAM_FLOATS * 4, usage: storage });
  const copyGroup = device.createBindGroup({ layout: copyPipe.getBindGroupLayout(0), entries: [bx, by, bz].map((buffer, binding) => ({ binding, resource: { buffer } })) });
  const copyGrid: [number, number] = [Math.min(65535, vecs / 64), Math.ceil(vecs / 64 / 65535)];
  const run = async (p: GPUComputePipeline, g: GPUBindGroup, grid: [number, number], calls: number) => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(p);
    pass.setBindGroup(0, g);
    for (let i = 0; i < calls; i++) pass.dispatchWorkgroups(grid[0], grid[1]);
    pass.end();
    device.queue.submit([enc.finish()]);
    await session.wait('peak probe');
  };
  const flopsStats = await timeBatched((n) => run(fmaPipe, fmaGroup, [invocations / 64, 1], n), o);
  const copyStats = await timeBatched((n) => run(copyPipe, copyGroup, copyGrid, n), { ...o, targetMs: Math.max(o.targetMs ?? 25, 40) });
  for (const b of [fmaOut, bx, by, bz]) b.destroy();
  return {
    backend: 'webgpu', gflops: (invocations * iters * 8 * 4 * 2) / flopsStats.min / 1e9, gbps: (12 * STREAM_FLOATS) / copyStats.min / 1e9, flopsStats, copyStats,
    method: 'vec4 fma chains (8 per invocation); vec4 z = x + y; many dispatches per submit',
  };
}
