// Checking users' kernels before a model trains with them: each custom
// kernel against the reference at every shape the model runs its op at, on
// the device the training will use. Browser-safe.

import type { Graph } from '../runtime/graph.js';
import { benchCase, type BenchRow } from './bench.js';
import { fmtErr } from './check.js';
import type { WgslKernel } from './custom-wgsl.js';
import { casesOfGraph } from './ops.js';
import { WebGpuOpRunner } from './webgpu.js';

export interface CustomKernelCheck {
  ok: boolean;
  rows: BenchRow[];
  /** One line per kernel: "custom dense_forward: ./k.wgsl (checked at 32×784×128, 32×128×10: max rel err 3.1e-7)", or what is wrong. */
  lines: string[];
}

export async function verifyCustomKernels(device: GPUDevice, graph: Graph, kernels: Record<string, WgslKernel>): Promise<CustomKernelCheck> {
  const runner = WebGpuOpRunner.fromDevice(device, 'custom kernel check');
  const rows: BenchRow[] = [];
  const lines: string[] = [];
  let ok = true;
  try {
    for (const [op, k] of Object.entries(kernels)) {
      const cases = casesOfGraph(graph).filter((c) => c.op === op);
      const mine: BenchRow[] = [];
      for (const c of cases) mine.push(await benchCase(c, 'webgpu', k.file, runner.withKernel(k), null, 'check only'));
      rows.push(...mine);
      const bad = mine.find((r) => r.status !== 'ok');
      if (bad) {
        ok = false;
        lines.push(`custom ${op} kernel ${k.file} ${bad.status === 'wrong' ? `is WRONG at ${bad.shape}` : `failed at ${bad.shape}`}: ${bad.message}`);
      } else if (mine.length) {
        const worst = Math.max(...mine.map((r) => r.maxRelErr ?? 0));
        lines.push(`custom ${op}: ${k.file} (checked against the reference at ${mine.map((r) => r.shape).join(', ')}: max rel err ${fmtErr(worst)})`);
      } else {
        lines.push(`custom ${op}: ${k.file} (not used: the model has no ${op} op)`);
      }
    }
  } finally {
    runner.dispose();
  }
  return { ok, rows, lines };
}
