// Checking users' kernels before a model trains (or evaluates, predicts)
// with them: each custom kernel against the reference at every shape the
// model runs its op at, on the device or wasm build the run will use. The
// cases and their data are the bench's (src/bench/ops.ts, from the op
// registry), so any replaceable op is checked the same way. Browser-safe.

import { benchCase, type BenchRow } from '../bench/bench.js';
import { fmtErr } from '../bench/check.js';
import { casesOfGraph } from '../bench/ops.js';
import type { OpRunner } from '../bench/runner.js';
import { WasmOpRunner } from '../bench/wasm.js';
import { WebGpuOpRunner } from '../bench/webgpu.js';
import type { Graph } from '../runtime/graph.js';
import type { WasmVariant } from '../runtime/wasm/module.js';
import type { AsKernel } from './as-contract.js';
import type { WgslKernel } from './wgsl.js';

export interface CustomKernelCheck {
  ok: boolean;
  rows: BenchRow[];
  /** One line per kernel: "custom dense_forward: ./k.wgsl (checked at 32×784×128, 32×128×10: max rel err 3.1e-7)", or what is wrong. */
  lines: string[];
}

export async function verifyCustomKernels(device: GPUDevice, graph: Graph, kernels: Record<string, WgslKernel>): Promise<CustomKernelCheck> {
  const runner = WebGpuOpRunner.fromDevice(device, 'custom kernel check');
  try {
    return await verifyWith(graph, 'webgpu', Object.entries(kernels).map(([op, k]) => [op, k.file, runner.withKernel(k)]));
  } finally {
    runner.dispose();
  }
}

/** The same check for custom AssemblyScript kernels, on the wasm build (variant) the training will use. */
export async function verifyCustomWasmKernels(graph: Graph, kernels: Record<string, AsKernel>, variant: WasmVariant | 'auto' = 'auto'): Promise<CustomKernelCheck> {
  const runner = await WasmOpRunner.create(variant === 'auto' ? 'auto' : variant === 'relaxed');
  return verifyWith(graph, 'wasm', Object.entries(kernels).map(([op, k]) => [op, k.file, runner.withKernel(k)]));
}

async function verifyWith(graph: Graph, backend: 'webgpu' | 'wasm', kernels: [string, string, Pick<OpRunner, 'prepare'>][]): Promise<CustomKernelCheck> {
  const rows: BenchRow[] = [];
  const lines: string[] = [];
  let ok = true;
  for (const [op, file, runner] of kernels) {
    const cases = casesOfGraph(graph).filter((c) => c.op === op);
    const mine: BenchRow[] = [];
    for (const c of cases) mine.push(await benchCase(c, backend, file, runner, null, 'check only'));
    rows.push(...mine);
    const bad = mine.find((r) => r.status !== 'ok');
    if (bad) {
      ok = false;
      lines.push(`custom ${op} kernel ${file} ${bad.status === 'wrong' ? `is WRONG at ${bad.shape}` : `failed at ${bad.shape}`}: ${bad.message}`);
    } else if (mine.length) {
      const worst = Math.max(...mine.map((r) => r.maxRelErr ?? 0));
      lines.push(`custom ${op}: ${file} (checked against the reference at ${mine.map((r) => r.shape).join(', ')}: max rel err ${fmtErr(worst)})`);
    } else {
      lines.push(`custom ${op}: ${file} (not used: the model has no ${op} op)`);
    }
  }
  return { ok, rows, lines };
}
