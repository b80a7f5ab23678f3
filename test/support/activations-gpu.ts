// WebGPU side of test/activations.test.ts: runs one op record through its
// registered `webgpu.dispatches` on a minimal GpuEnv of its own (buffers
// of rows + EXTRA rows, ctx.rows = rows, outputs prefilled with NaN so a
// write past the batch shows), and measures the prelude's f32 special
// functions with a small probe kernel. The pipelines are built here from
// src/generated/kernels.ts (prelude + kernel, layouts from the op's spec),
// so the suite depends only on the registry and the WGSL files.

import { WGSL_SOURCES } from '../../src/generated/kernels.js';
import { requestNodeGpu } from '../../src/node/webgpu.js';
import { erf, erfc } from '../../src/ops/math.js';
import { NO_OPTIMIZER, type Access, type Constants, type GpuDispatch, type GpuEnv, type OpDef, type OpRecordBase } from '../../src/ops/types.js';
import { CTX_BYTES, CTX_STRIDE, writeCtx } from '../../src/runtime/webgpu/kernels.js';

const EXTRA = 2;

/**
 * Bounds on the prelude's functions. WGSL's exp may be off by 3 + 2·|x| ulp
 * (the spec), which erfc_pos's exponent (up to ~−84) inherits, so erfc is
 * bounded on z ≤ 4 where the argument stays small; `exp` is the measured
 * error in units of the spec's own bound.
 */
export const WGSL_MATH_TOL: Record<string, number> = { expSpec: 1, erfAbs: 1e-6, erfRel: 2e-6, erfc: 1e-5, expm1: 1e-6, tanh: 1e-6, log1p: 1e-6 };

export async function gpuSetup(): Promise<{ device: GPUDevice | null; reason: string; name: string }> {
  const r = await requestNodeGpu();
  if (!r.gpu) return { device: null, reason: r.reason, name: '' };
  const device = await r.adapter.requestDevice({ label: 'tessera activation tests' });
  return { device, reason: '', name: `${r.backend}, ${r.adapterInfo.description || r.adapterInfo.vendor}` };
}

const modules = new Map<string, GPUShaderModule>();
async function pipeline(device: GPUDevice, name: string, code: string, access: readonly Access[], constants: Constants) {
  let module = modules.get(name);
  if (!module) {
    module = device.createShaderModule({ label: name, code: `${WGSL_SOURCES.prelude}\n${code}` });
    const errors = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
    if (errors.length) throw new Error(`${name}: ${errors.map((m) => `line ${m.lineNum}: ${m.message}`).join('; ')}`);
    modules.set(name, module);
  }
  const layout = device.createBindGroupLayout({
    entries: [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: CTX_BYTES } },
      ...access.map((a, i): GPUBindGroupLayoutEntry => ({ binding: i + 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: a === 'read' ? 'read-only-storage' : 'storage' } })),
    ],
  });
  const consts = Object.fromEntries(Object.entries(constants).map(([k, v]) => [k, Number(v)]));
  const p = await device.createComputePipelineAsync({ layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }), compute: { module, entryPoint: 'main', constants: consts } });
  return { p, layout };
}

function storage(device: GPUDevice, data: Float32Array): GPUBuffer {
  const b = device.createBuffer({ size: Math.max(16, Math.ceil(data.byteLength / 16) * 16), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
  return b;
}

/** Records `dispatches` on one pass, then reads back `out` (n floats). */
async function submit(device: GPUDevice, dispatches: GpuDispatch[], out: GPUBuffer, floats: number): Promise<Float32Array> {
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  for (const d of dispatches) {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.group, [0]);
    pass.dispatchWorkgroups(d.x, d.y);
  }
  pass.end();
  const staging = device.createBuffer({ size: out.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  enc.copyBufferToBuffer(out, 0, staging, 0, out.size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const got = new Float32Array(staging.getMappedRange().slice(0, floats * 4));
  staging.destroy();
  return got;
}

function ctxBuffer(device: GPUDevice, rows: number): GPUBuffer {
  const ctx = device.createBuffer({ size: CTX_STRIDE, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const rec = new ArrayBuffer(CTX_STRIDE);
  writeCtx(new DataView(rec), 0, { offset: 0, rows, step: 0, alpha: 0, invRows: 1 / rows });
  device.queue.writeBuffer(ctx, 0, rec);
  return ctx;
}

/** One op record of `d` on M rows of F; returns its output's first M·F values (throws if it wrote past them). */
async function run(device: GPUDevice, d: OpDef, op: OpRecordBase, inputs: Record<string, Float32Array>, out: string, M: number, F: number): Promise<Float32Array> {
  const B = M + EXTRA, n = M * F;
  const bufs = new Map<string, GPUBuffer>();
  for (const [name, a] of Object.entries(inputs)) {
    const full = new Float32Array(B * F).fill(0.5); // rows past M hold finite values the kernel must not read into the output
    full.set(a);
    bufs.set(name, storage(device, full));
  }
  bufs.set(out, storage(device, new Float32Array(B * F).fill(NaN)));
  const small = storage(device, new Float32Array(4));
  const ctx = ctxBuffer(device, M);
  const env: GpuEnv = {
    B, mode: 'train', span: () => null,
    range: (name) => ({ buffer: name === null ? small : bufs.get(name) ?? (() => { throw new Error(`${d.kind}: no buffer ${name}`); })() }),
    scratch: () => ({ buffer: storage(device, new Float32Array(4)) }),
    labels: () => ({ buffer: small }), metrics: () => ({ buffer: small }), keySlot: () => 0,
    optimizer: NO_OPTIMIZER, prefer: { denseForward: 'register' },
    async dispatch(kernel, detail, constants, buffers, grid) {
      const access = d.webgpu.kernels[kernel];
      if (!access) throw new Error(`${d.kind} dispatches ${kernel}, which its spec does not list`);
      const { p, layout } = await pipeline(device, kernel, WGSL_SOURCES[kernel] ?? '', access, constants);
      const group = device.createBindGroup({ label: detail, layout, entries: [{ binding: 0, resource: { buffer: ctx, offset: 0, size: CTX_BYTES } }, ...buffers.map((b, i) => ({ binding: i + 1, resource: b }))] });
      return { pipeline: p, group, x: grid[0], y: grid[1], kernel };
    },
    custom: null,
  };
  device.pushErrorScope('validation');
  const dispatches = await d.webgpu.dispatches(op, env);
  const got = await submit(device, dispatches, bufs.get(out)!, B * F);
  const err = await device.popErrorScope();
  if (err) throw new Error(`${d.kind}: ${err.message}`);
  for (const b of [...bufs.values(), small, ctx]) b.destroy();
  for (let i = n; i < B * F; i++) if (!Number.isNaN(got[i]!)) throw new Error(`${d.kind} M=${M} F=${F}: element ${i} past ctx.rows was written`);
  return got.subarray(0, n);
}

// Probe of the prelude's functions: y[i] = fn(x[i]).
const PROBE = `
override FN: u32;
override N: u32;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= N) { return; }
  let v = x[i];
  switch FN {
    case 0u: { y[i] = exp(v); }
    case 1u: { y[i] = erf_f32(v); }
    case 2u: { y[i] = erfc_pos(v); }
    case 3u: { y[i] = expm1_f32(v); }
    case 4u: { y[i] = tanh_f32(v); }
    default: { y[i] = log1p01(v); }
  }
}`;

async function probe(device: GPUDevice, fn: number, x: Float32Array): Promise<Float32Array> {
  const { p, layout } = await pipeline(device, 'activation_math_probe', PROBE, ['read', 'rw'], { FN: fn, N: x.length });
  const xb = storage(device, x), yb = storage(device, new Float32Array(x.length)), ctx = ctxBuffer(device, 1);
  const group = device.createBindGroup({ layout, entries: [{ binding: 0, resource: { buffer: ctx, offset: 0, size: CTX_BYTES } }, { binding: 1, resource: { buffer: xb } }, { binding: 2, resource: { buffer: yb } }] });
  const groups = Math.ceil(x.length / 64);
  const y = await submit(device, [{ pipeline: p, group, x: Math.min(groups, 65535), y: Math.ceil(groups / 65535), kernel: 'probe' }], yb, x.length);
  for (const b of [xb, yb, ctx]) b.destroy();
  return y;
}

const grid = (lo: number, hi: number, n = 20001) => Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
const ulp = (v: number) => 2 ** (Math.floor(Math.log2(Math.abs(v))) - 23);

async function math(device: GPUDevice): Promise<Record<string, number>> {
  const worst = async (fn: number, x: Float32Array, f: (v: number) => number, err: (got: number, want: number, x: number) => number) => {
    const y = await probe(device, fn, x);
    return y.reduce((w, v, i) => Math.max(w, Number.isNaN(v) ? Infinity : err(v, f(x[i]!), x[i]!)), 0);
  };
  const rel = (g: number, w: number) => (g === w ? 0 : Math.abs(g - w) / Math.abs(w));
  return {
    expSpec: await worst(0, grid(-80, 80), Math.exp, (g, w, x) => Math.abs(g - w) / ((3 + 2 * Math.abs(x)) * ulp(w))),
    erfAbs: await worst(1, grid(-6, 6), erf, (g, w) => Math.abs(g - w)),
    erfRel: await worst(1, grid(-6, 6), erf, rel),
    erfc: await worst(2, grid(0, 4), erfc, rel),
    expm1: await worst(3, grid(-10, 10, 20000), Math.expm1, rel),
    tanh: await worst(4, grid(-10, 10, 20000), Math.tanh, rel),
    log1p: await worst(5, Float32Array.from(grid(-30, 0), (e) => 10 ** e), Math.log1p, rel),
  };
}

export const gpuCheck = { run, math };
