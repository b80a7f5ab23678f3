// The MNIST convnet's WGSL kernels at its own shapes (models/mnist-cnn.yaml,
// batch 128), for bench/webgpu-kernels.ts: every conv and pooling op of one
// training step, built by the op's own `webgpu.dispatches` (the same
// kernels, constants and grids as in training) under each conv kernel
// choice of the backend ('blocked', the default, and 'direct'), and each
// dispatch timed alone. GFLOP/s counts the multiply-adds of every valid
// tap (2·B·outH·outW·kH·kW·inC·outC, as conv libraries do); db counts one
// add per dy value.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { casesOfGraph, instanceBuffers, randomFloats } from '../src/bench/ops.js';
import { compileGraph } from '../src/runtime/graph.js';
import { opDef } from '../src/ops/index.js';
import { convFlops, geometryOf, sizes } from '../src/ops/conv2d_shared.js';
import { opEnv } from '../src/runtime/webgpu/op-env.js';
import type { KernelSet } from '../src/runtime/webgpu/kernels.js';
import type { ModelSpec } from '../src/config/types.js';

export interface ConvBenchContext {
  device: GPUDevice;
  kernels: KernelSet;
  ctx: GPUBuffer;
  timeDispatch: (pipeline: GPUComputePipeline, group: GPUBindGroup, grid: [number, number], rows: number) => Promise<number[]>;
  repeats: number;
  /** Also time the direct kernels. */
  direct: boolean;
  /** Every benchable op of the step, not only conv and pooling. */
  allOps?: boolean;
}

export async function convKernels(c: ConvBenchContext): Promise<void> {
  const spec = parse(readFileSync(new URL('../models/mnist-cnn.yaml', import.meta.url), 'utf8')) as ModelSpec;
  const graph = compileGraph(spec);
  const cases = casesOfGraph(graph).filter((k) => c.allOps || /^(conv2d_|max_pool2d)/.test(k.op));
  console.log(`models/mnist-cnn.yaml, batch ${graph.batchSize}: median µs per dispatch of ${c.repeats} repeats, GFLOP/s median (min–max)`);
  const variants = c.direct ? (['blocked', 'direct'] as const) : (['blocked'] as const);
  for (const k of cases) {
    const def = opDef(k.op);
    const inst = def.bench!.instance(k.dims, randomFloats());
    const owned: GPUBuffer[] = [];
    const upload = (a: Float32Array) => {
      const b = c.device.createBuffer({ size: Math.max(16, Math.ceil(a.byteLength / 16) * 16), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
      c.device.queue.writeBuffer(b, 0, a);
      owned.push(b);
      return b;
    };
    const named = new Map(Object.entries(instanceBuffers(inst)).map(([n, a]) => [n, upload(a)]));
    // Separate small buffers: an op may read one (labels) and write another (metrics) in one dispatch.
    const small = upload(new Float32Array(4)), labels = upload(new Float32Array(Math.max(4, inst.rows))), metrics = upload(new Float32Array(64));
    const seen = new Set<string>();
    const conv = k.op.startsWith('conv2d_');
    const { B, g } = conv ? geometryOf(k.dims) : { B: k.dims[0]!, g: null };
    const pool = /pool2d/.test(k.op);
    const shape = g ? `${B}×${g.inH}×${g.inW}×${g.inC}→${g.outH}×${g.outW}×${g.outC}` : pool ? `${k.dims.slice(0, 4).join('×')} pool ${k.dims[4]}×${k.dims[5]}` : k.dims.join('×');
    for (const variant of variants) {
      const env = opEnv(c.kernels, def, {
        B: inst.rows, mode: 'train', ctx: c.ctx,
        range: (name) => ({ buffer: name === null ? small : named.get(name)! }),
        scratch: () => ({ buffer: small }),
        labels: () => ({ buffer: labels }), metrics: () => ({ buffer: metrics }),
        keySlot: () => 0, optimizer: inst.optimizer,
        prefer: { denseForward: 'register', conv: variant },
      });
      for (const d of await def.webgpu.dispatches(inst.op, env)) {
        if (seen.has(d.kernel)) continue;
        seen.add(d.kernel);
        const ms = await c.timeDispatch(d.pipeline, d.group, [d.x, d.y], inst.rows);
        const med = ms[ms.length >> 1]!;
        const flops = !g ? 0 : d.kernel.startsWith('conv2d_bias_grad') ? sizes(B, g).y : convFlops(B, g);
        const rate = (t: number) => (flops / t / 1e6).toFixed(2);
        const label = `${k.op.replace('conv2d_', '')}: ${d.kernel}${variant === 'blocked' ? '' : ' (direct)'}`;
        console.log(`  ${shape.padEnd(28)} ${label.padEnd(52)} ${(med * 1000).toFixed(0).padStart(8)} µs` +
          (flops ? `  ${rate(med).padStart(6)} GFLOP/s (${rate(ms[ms.length - 1]!)}–${rate(ms[0]!)})` : ''));
      }
    }
    for (const b of owned) b.destroy();
  }
}
