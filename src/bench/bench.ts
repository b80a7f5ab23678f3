// `tessera bench` without the command line: run ops (and whole training
// steps) on backends, check each kernel against the reference, time the
// ones that are right, and measure each backend's peaks. The CLI
// (src/cli/commands/bench.ts) formats the report as a table and JSON.

import type { Backend } from '../runtime/backend.js';
import type { Graph } from '../runtime/graph.js';
import { initParams } from '../runtime/params.js';
import { compareOutputs, DEFAULT_TOLERANCE, fmtErr } from './check.js';
import { opDef } from '../ops/index.js';
import { makeData, shapeText, type OpCase } from './ops.js';
import type { Peak } from './peak.js';
import { KernelRejectedError, type BenchBackend, type OpRunner } from './runner.js';
import { timeBatched, type Stats, type TimingOptions } from './stats.js';

export type RowStatus = 'ok' | 'wrong' | 'error' | 'skipped';

/** One row of the report (also one element of `results` in --json). */
export interface BenchRow {
  op: string;
  backend: BenchBackend;
  /** 'built-in', or the custom kernel's file. */
  kernel: string;
  /** The op's bench dims joined by × (its bench.shape says what they are, e.g. M,K,N), or "batch 32" for train_step. */
  shape: string;
  dims: number[];
  status: RowStatus;
  /** Largest relative error against the reference (null when not checked). */
  maxRelErr: number | null;
  /** Set on js rows: the js runner runs the reference itself, so its outputs are not checked against it. */
  reference?: true;
  tolerance: number;
  /** Where a wrong kernel first differs. */
  firstMismatch?: { output: string; index: number; got: number; expected: number };
  /** Why the row is wrong, failed or skipped. */
  message?: string;
  /** Seconds per call (median, min, max over repeats); null unless status is ok. */
  time: { median: number; min: number; max: number; repeats: number; callsPerRepeat: number } | null;
  flops: number;
  bytes: number;
  unit: 'GFLOP/s' | 'GB/s';
  /** Rate at the median time, and at the slowest and fastest repeat. */
  rate: { median: number; min: number; max: number } | null;
  /** rate.median over this backend's measured peak in the same unit. */
  peakFraction: number | null;
}

export interface BackendReport {
  name: BenchBackend;
  description: string;
  peak: Peak | null;
  /** Why the backend did not run (with --backend all and no adapter, say). */
  unavailable?: string;
}

export interface BenchReport {
  machine: string;
  node: string;
  date: string;
  repeats: number;
  backends: BackendReport[];
  results: BenchRow[];
}

function rowBase(c: OpCase, backend: BenchBackend, kernel: string): BenchRow {
  return {
    op: c.op, backend, kernel, shape: shapeText(c), dims: c.dims, status: 'ok', maxRelErr: null, tolerance: DEFAULT_TOLERANCE,
    time: null, flops: c.flops, bytes: c.bytes, unit: c.unit, rate: null, peakFraction: null,
  };
}

export function withRates(row: BenchRow, s: Stats, peak: Peak | null): BenchRow {
  const work = row.unit === 'GFLOP/s' ? row.flops : row.bytes;
  const rate = { median: work / s.median / 1e9, min: work / s.max / 1e9, max: work / s.min / 1e9 };
  const ceiling = peak ? (row.unit === 'GFLOP/s' ? peak.gflops : peak.gbps) : 0;
  return { ...row, time: { median: s.median, min: s.min, max: s.max, repeats: s.repeats, callsPerRepeat: s.callsPerRepeat }, rate, peakFraction: ceiling > 0 ? rate.median / ceiling : null };
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Check one kernel on fresh random inputs, then (if right) time it.
 * Never throws for a kernel's fault: the row says what went wrong.
 */
export async function benchCase(c: OpCase, backend: BenchBackend, kernel: string, runner: Pick<OpRunner, 'prepare'>, peak: Peak | null, timing: TimingOptions | 'check only'): Promise<BenchRow> {
  const data = makeData(c);
  const row = { ...rowBase(c, backend, kernel), tolerance: data.tolerance ?? DEFAULT_TOLERANCE };
  let prepared;
  try {
    prepared = await runner.prepare(c, data);
  } catch (e) {
    return { ...row, status: 'error', message: firstLine(e) };
  }
  try {
    const got = await prepared.check();
    if (prepared.isReference) {
      // The reference compared with itself proves nothing: time it, claim no check.
      const ref: BenchRow = { ...row, reference: true };
      return timing === 'check only' ? ref : withRates(ref, await prepared.time(timing), peak);
    }
    const check = compareOutputs(got, data, row.tolerance);
    const checked: BenchRow = { ...row, maxRelErr: check.maxRelErr };
    if (!check.ok) {
      const m = check.mismatch;
      return { ...checked, status: 'wrong', message: check.message, firstMismatch: m ? { output: m.output, index: m.index, got: m.got, expected: m.want } : undefined };
    }
    if (timing === 'check only') return checked;
    const s = await prepared.time(timing);
    return withRates(checked, s, peak);
  } catch (e) {
    return { ...row, status: 'error', message: firstLine(e) };
  } finally {
    prepared.dispose();
  }
}

/** FLOP of one training step of a graph: the sum of its ops' bench work (forward, backward, update), for the train_step row's GFLOP/s. */
export function stepFlops(g: Graph): number {
  let f = 0;
  for (const op of [...g.forward, ...g.backward, ...g.update]) {
    const spec = opDef(op.kind).bench;
    if (spec) f += spec.work(spec.dims(op as never, g.batchSize)).flops;
  }
  return f;
}

/**
 * Whole training steps on a prepared backend (synthetic uint8 images: the
 * step's cost does not depend on the pixel values, except for the wasm
 * backend's zero-skipping first layer, which gets MNIST-like sparsity:
 * ~80% zeros). One row: seconds per step, GFLOP/s of the step's ops.
 */
export async function benchTrainSteps(make: () => Promise<Backend>, g: Graph, peak: Peak | null, timing: TimingOptions, kernel = 'built-in'): Promise<BenchRow> {
  const B = g.batchSize;
  const batches = 64;
  const count = B * batches;
  const row: BenchRow = {
    op: 'train_step', backend: 'js', kernel, shape: `batch ${B}`, dims: [B], status: 'ok', maxRelErr: null, tolerance: DEFAULT_TOLERANCE,
    time: null, flops: stepFlops(g), bytes: 0, unit: 'GFLOP/s', rate: null, peakFraction: null,
  };
  let backend: Backend | null = null;
  try {
    backend = await make();
    row.backend = backend.name;
    await backend.prepare(g, initParams(g));
    const images = new Uint8Array(count * g.inputFeatures);
    let s = 12345;
    for (let i = 0; i < images.length; i++) { s = (Math.imul(s, 1103515245) + 12345) >>> 0; images[i] = (s >>> 24) < 52 ? s & 255 : 0; }
    const labels = Uint8Array.from({ length: count }, (_, i) => i % g.classes);
    await backend.setDataset('train', { images, labels, count, features: g.inputFeatures });
    await backend.setOrder(Uint32Array.from({ length: count }, (_, i) => i));
    let step = 0;
    const stats = await timeBatched(async (calls) => {
      for (let done = 0; done < calls;) {
        const n = Math.min(batches, calls - done);
        await backend!.trainSteps(0, n, step);
        step += n;
        done += n;
      }
      await backend!.readMetrics();
    }, { ...timing, targetMs: Math.max(timing.targetMs ?? 25, 100) });
    const m = await backend.readMetrics();
    if (!Number.isFinite(m.lossSum)) return { ...row, status: 'wrong', message: `training steps produced a non-finite loss (${m.lossSum})` };
    return withRates(row, stats, peak);
  } catch (e) {
    return { ...row, status: 'error', message: firstLine(e) };
  } finally {
    backend?.dispose();
  }
}

export function isRejected(e: unknown): e is KernelRejectedError {
  return e instanceof KernelRejectedError;
}

export { fmtErr };
