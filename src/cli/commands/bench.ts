// `tessera bench`: check every kernel against the TypeScript reference on
// fresh random inputs, then time the ones that are right, beside this
// machine's measured peaks. Custom kernels (--kernel op=file.wgsl for webgpu,
// op=file.ts in AssemblyScript for wasm, or a model file's `kernels:`) are
// checked and timed side by side with the built-in kernel of the same op.
// The library side is src/bench/.

import { writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCase, benchTrainSteps, type BackendReport, type BenchReport, type BenchRow } from '../../bench/bench.js';
import { fmtErr } from '../../bench/check.js';
import { JsOpRunner } from '../../bench/js.js';
import { benchOps, caseFromMKN, casesOfGraph, isBenchOp, type OpCase } from '../../bench/ops.js';
import { peakJs, peakWasm, peakWebGpu, type Peak } from '../../bench/peak.js';
import { BENCH_BACKENDS, type BenchBackend, type OpRunner } from '../../bench/runner.js';
import { WasmOpRunner } from '../../bench/wasm.js';
import { WebGpuOpRunner } from '../../bench/webgpu.js';
import { suggest } from '../../config/suggest.js';
import type { ModelSpec } from '../../config/types.js';
import { isAsKernel, toCustomWasmKernel, type AsKernel } from '../../custom/assemblyscript.js';
import { kernelFileBackend, loadCustomKernel, type LoadedKernel } from '../../custom/load-node.js';
import { toCustomKernel, type WgslKernel } from '../../custom/wgsl.js';
import { isOpKind } from '../../ops/index.js';
import { requestNodeGpu } from '../../node/webgpu.js';
import type { Backend } from '../../runtime/backend.js';
import { JsBackend } from '../../runtime/backends/js.js';
import { WasmBackend, type WasmBackendOptions } from '../../runtime/backends/wasm.js';
import { WebGpuBackend, describeAdapter, type WebGpuBackendOptions } from '../../runtime/backends/webgpu.js';
import { compileGraph, type Graph } from '../../runtime/graph.js';
import { parseCommandArgs, type Command } from '../command.js';
import { intFlag } from '../flags.js';
import { renderTable } from '../format.js';
import { loadModelSpec, loadModelWithData } from '../model-file.js';
import { UsageError, UserError } from '../user-error.js';

const FLAGSHIP = fileURLToPath(new URL('../../../models/mnist.yaml', import.meta.url));
/** Where an op that the model does not run is benched: the flagship's first layer, through the op's bench.fromMKN. */
const DEFAULT_MKN: [number, number, number] = [32, 784, 128];

export const benchCommand: Command = {
  name: 'bench',
  summary: 'check kernels against the reference and time them (built-in or your own)',
  usage: `Usage: tessera bench [--backend webgpu|wasm|js|all] [--op NAMES] [--shape M,K,N ...] [--model FILE.yaml] [--repeat N] [--json FILE] [--kernel OP=FILE ...]

Checks each kernel against the TypeScript reference on fresh random inputs
(max relative error; a wrong kernel is shown as WRONG and not timed), then
times it: warm-up, N repeats, median and min–max. Rates are GFLOP/s for the
matmuls and GB/s for memory-bound ops, beside the fraction of this
machine's peak as the same backend sees it (an FMA-bound and a copy-bound
probe, measured in the same run).

Options:
  --backend NAME    webgpu, wasm, js, or all (default: all that are available here)
  --op NAMES        only these ops (comma-separated), any of: ${benchOps().join(', ')}
  --shape M,K,N     bench at this shape (repeatable); each op takes its own dims from it
                    (docs/kernels.md): matmuls M,K,N, elementwise ops and losses M rows
                    of N, adam K·N values
  --model FILE      every op at exactly the shapes FILE's model uses, plus whole
                    training steps; its \`kernels:\` are benched beside the built-ins
  --repeat N        timed repeats per kernel (default 5)
  --json FILE       also write the report as JSON (fields: docs/kernels.md)
  --kernel OP=FILE  a custom kernel for OP (repeatable), checked and timed beside
                    the built-in one: FILE.wgsl on webgpu, FILE.ts (AssemblyScript)
                    on wasm; contract: docs/kernels.md
  --watchdog-ms MS  declare a webgpu kernel hung after MS without finishing (default 30000)
  -h, --help        show this help

Without --shape or --model: the flagship model's shapes (models/mnist.yaml). An op
named by --op that the model does not run is benched at ${DEFAULT_MKN.join(',')}.`,

  async run(args) {
    const { values } = parseCommandArgs(args, {
      backend: { type: 'string' },
      op: { type: 'string', multiple: true },
      shape: { type: 'string', multiple: true },
      model: { type: 'string' },
      repeat: { type: 'string' },
      json: { type: 'string' },
      kernel: { type: 'string', multiple: true },
      'watchdog-ms': { type: 'string' },
    });
    const repeats = intFlag(values, 'repeat', 1, 1000) ?? 5;
    const watchdogMs = intFlag(values, 'watchdog-ms', 100) ?? 30_000;
    const backendArg = values.backend === undefined ? 'all' : String(values.backend);
    if (backendArg !== 'all' && !(BENCH_BACKENDS as readonly string[]).includes(backendArg)) {
      throw new UsageError(`--backend must be one of webgpu, wasm, js, all; got '${backendArg}'`);
    }
    const ops = parseOps(values.op as string[] | undefined);
    const shapes = ((values.shape as string[] | undefined) ?? []).map(parseShape);
    const modelPath = values.model === undefined ? undefined : String(values.model);
    if (modelPath !== undefined && shapes.length) throw new UsageError('give --shape or --model, not both');

    // Cases.
    let graph: Graph | null = null;
    let spec: ModelSpec | null = null;
    let cases: OpCase[];
    if (shapes.length) {
      cases = shapes.flatMap((s) => (ops ?? benchOps()).map((op) => caseFromMKN(op, s)));
    } else {
      spec = await loadModelSpec(modelPath ?? FLAGSHIP);
      // A model without input_shape takes it from its data: read the data to know it.
      if (spec.input_shape === undefined) spec = (await loadModelWithData(modelPath ?? FLAGSHIP)).spec;
      graph = compileGraph(spec);
      cases = casesOfGraph(graph).filter((c) => !ops || ops.includes(c.op));
      const absent = (ops ?? []).filter((op) => !cases.some((c) => c.op === op));
      if (absent.length) {
        process.stdout.write(`note: ${modelPath ?? 'models/mnist.yaml'} runs no ${absent.join(', ')}: benched at --shape ${DEFAULT_MKN.join(',')}\n`);
        cases.push(...absent.map((op) => caseFromMKN(op, DEFAULT_MKN)));
      }
    }

    // Custom kernels: --kernel, then the model file's kernels: (paths already absolute).
    // One kernel per op and backend: a .wgsl and a .ts for the same op are benched side by side.
    const customFiles: [string, string][] = [];
    const addKernel = (op: string, file: string) => {
      const i = customFiles.findIndex(([o, f]) => o === op && kernelFileBackend(f) === kernelFileBackend(file));
      if (i >= 0) customFiles.splice(i, 1);
      customFiles.push([op, file]);
    };
    if (modelPath && spec?.kernels) for (const [op, file] of Object.entries(spec.kernels)) addKernel(op, file);
    for (const k of (values.kernel as string[] | undefined) ?? []) {
      const m = /^([a-z0-9_]+)=(.+)$/.exec(k);
      if (!m) throw new UsageError(`--kernel takes OP=FILE (e.g. dense_forward=./my_dense.wgsl or dense_forward=./my_dense.ts), got '${k}'`);
      addKernel(m[1]!, resolve(m[2]!));
    }
    const wanted: BenchBackend[] = backendArg === 'all' ? [...BENCH_BACKENDS] : [backendArg as BenchBackend];
    for (const [, file] of customFiles) {
      const runsOn = kernelFileBackend(file);
      if (runsOn && !wanted.includes(runsOn)) {
        throw new UsageError(`custom ${runsOn === 'webgpu' ? 'WGSL' : 'AssemblyScript'} kernels run on the ${runsOn} backend; add --backend ${runsOn} (or all)`);
      }
    }
    const wgslKernels: Record<string, WgslKernel> = {};
    const asKernels: Record<string, AsKernel> = {};
    for (const [op, file] of customFiles) {
      const k: LoadedKernel = await loadCustomKernel(op, file);
      if (isAsKernel(k)) asKernels[op] = k;
      else wgslKernels[op] = k;
    }
    const timing = { repeats };
    const report: BenchReport = { machine: machine(), node: process.version, date: new Date().toISOString(), repeats, backends: [], results: [] };
    const out = process.stdout;
    out.write(`machine: ${report.machine}\n`);

    for (const name of wanted) {
      const made = await makeRunner(name, watchdogMs);
      if ('unavailable' in made) {
        if (backendArg !== 'all') throw new UserError(`backend '${name}' is not available: ${made.unavailable}`);
        report.backends.push({ name, description: name, peak: null, unavailable: made.unavailable });
        out.write(`${name}: skipped (${made.unavailable})\n`);
        continue;
      }
      const { runner } = made;
      const br: BackendReport = { name, description: runner.description, peak: null };
      report.backends.push(br);
      try {
        br.peak = await measurePeak(runner, { repeats });
      } catch (e) {
        out.write(`${name}: peak probes failed: ${(e as Error).message}\n`);
      }
      out.write(`${name}: ${runner.description}${br.peak ? `\n  peak: ${br.peak.gflops.toFixed(1)} GFLOP/s (${br.peak.method.split(';')[0]}), ${br.peak.gbps.toFixed(1)} GB/s (z = x + y)` : ''}\n`);
      try {
        for (const c of cases) {
          if (runner instanceof WebGpuOpRunner && runner.deviceLost) { report.results.push(skippedRow(c, name, 'the WebGPU device was lost earlier in this run')); continue; }
          const wk = name === 'webgpu' ? wgslKernels[c.op] : undefined;
          const ak = name === 'wasm' ? asKernels[c.op] : undefined;
          if (wk || ak) {
            // Built-in first, then the custom kernel, side by side.
            report.results.push(await benchCase(c, name, 'built-in', runner, br.peak, timing));
            const mine = wk ? (runner as WebGpuOpRunner).withKernel(wk) : (runner as WasmOpRunner).withKernel(ak!);
            report.results.push(await benchCase(c, name, (wk ?? ak)!.file, mine, br.peak, timing));
          } else {
            report.results.push(await benchCase(c, name, 'built-in', runner, br.peak, timing));
          }
        }
        if (graph && modelPath) {
          const builtin = trainBackendFactory(name, made);
          if (builtin) report.results.push(await benchTrainSteps(builtin, graph, br.peak, timing, 'built-in'));
          const mineOnes = name === 'webgpu' ? wgslKernels : name === 'wasm' ? asKernels : {};
          if (Object.keys(mineOnes).length) {
            const mine = name === 'webgpu'
              ? trainBackendFactory(name, made, Object.fromEntries(Object.entries(wgslKernels).map(([op, k]) => [op, toCustomKernel(k)])))
              : trainBackendFactory(name, made, {}, Object.fromEntries(Object.entries(asKernels).map(([op, k]) => [op, toCustomWasmKernel(k)])));
            const label = Object.values(mineOnes).map((k) => k.file).join(' + ');
            if (mine) report.results.push(await benchTrainSteps(mine, graph, br.peak, timing, label));
          }
        }
      } finally {
        runner.dispose();
      }
    }

    out.write(`\n${formatReport(report)}\n`);
    const notes = reportNotes(report);
    if (notes) out.write(`\n${notes}\n`);
    if (values.json !== undefined) {
      const file = String(values.json);
      await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
      out.write(`\nwrote ${file}\n`);
    }
    return report.results.some((r) => r.status === 'wrong' || r.status === 'error') ? 1 : 0;
  },
};

function parseOps(raw: string[] | undefined): string[] | null {
  if (!raw) return null;
  const names = raw.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (isBenchOp(n)) continue;
    if (isOpKind(n)) throw new UsageError(`op '${n}' cannot be benched on its own (it has no bench spec); benchable ops: ${benchOps().join(', ')}`);
    const s = suggest(n, benchOps());
    throw new UsageError(`unknown op '${n}'${s ? `; did you mean '${s}'?` : ''} (benchable ops: ${benchOps().join(', ')})`);
  }
  return names;
}

function parseShape(s: string): [number, number, number] {
  const parts = s.split(/[,x×]/).map((p) => p.trim());
  const nums = parts.map(Number);
  if (parts.length !== 3 || nums.some((n) => !Number.isSafeInteger(n) || n < 1 || n > 1 << 24)) {
    throw new UsageError(`--shape takes three positive integers M,K,N (e.g. 32,784,128), got '${s}'`);
  }
  return nums as [number, number, number];
}

type Made = { runner: OpRunner; adapter?: [GPUAdapter, string]; gpu?: GPU } | { unavailable: string };

async function makeRunner(name: BenchBackend, watchdogMs: number): Promise<Made> {
  try {
    if (name === 'js') return { runner: new JsOpRunner() };
    if (name === 'wasm') return { runner: await WasmOpRunner.create() };
    const r = await requestNodeGpu();
    if (!r.gpu) return { unavailable: r.reason };
    const description = `webgpu (${describeAdapter(r.adapterInfo, r.backend)})`;
    return { runner: await WebGpuOpRunner.create(r.adapter, description, { watchdogMs }), adapter: [r.adapter, description], gpu: r.gpu };
  } catch (e) {
    return { unavailable: (e as Error).message.split('\n')[0]! };
  }
}

async function measurePeak(runner: OpRunner, o: { repeats: number }): Promise<Peak> {
  if (runner instanceof WasmOpRunner) return peakWasm(runner.variant, o);
  if (runner instanceof WebGpuOpRunner) return peakWebGpu(runner.session, o);
  return peakJs(o);
}

function trainBackendFactory(name: BenchBackend, made: Made, customKernels: WebGpuBackendOptions['customKernels'] = {}, wasmKernels: WasmBackendOptions['customKernels'] = {}): (() => Promise<Backend>) | null {
  if ('unavailable' in made) return null;
  if (name === 'js') return async () => new JsBackend();
  if (name === 'wasm') return () => WasmBackend.create({ relaxed: made.runner instanceof WasmOpRunner ? made.runner.variant === 'relaxed' : 'auto', customKernels: wasmKernels });
  if (!made.gpu) return null;
  // An adapter makes one device (the op runner's): the backend requests its own.
  return () => WebGpuBackend.create(made.gpu!, { customKernels });
}

function skippedRow(c: OpCase, backend: BenchBackend, why: string): BenchRow {
  return {
    op: c.op, backend, kernel: 'built-in', shape: c.dims.join('×'), dims: c.dims, status: 'skipped', maxRelErr: null, tolerance: 0,
    message: why, time: null, flops: c.flops, bytes: c.bytes, unit: c.unit, rate: null, peakFraction: null,
  };
}

function machine(): string {
  let model = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  return `${model}, ${cpus().length} logical CPUs, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; ${process.platform}/${process.arch}`;
}

/** Seconds as "812 µs", "6.41 ms", "1.20 s". */
export function formatSeconds(s: number): string {
  if (s < 1e-3) return `${(s * 1e6).toFixed(s < 1e-5 ? 2 : s < 1e-4 ? 1 : 0)} µs`;
  if (s < 1) return `${(s * 1e3).toFixed(s < 1e-2 ? 2 : s < 1e-1 ? 1 : 0)} ms`;
  return `${s.toFixed(2)} s`;
}

const num = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

export const TABLE_HEADER = ['op', 'backend', 'kernel', 'shape', 'max rel err', 'median', 'min–max', 'rate', '% peak'];

/** The aligned table. */
export function formatReport(r: BenchReport): string {
  const rows = r.results.map((x) => {
    const err = x.status === 'wrong' ? `WRONG ${fmtErr(x.maxRelErr ?? Infinity)}` : x.status === 'error' ? 'ERROR' : x.status === 'skipped' ? 'skipped' : x.reference ? 'reference' : x.maxRelErr === null ? '-' : fmtErr(x.maxRelErr);
    if (!x.time || !x.rate) return [x.op, x.backend, x.kernel, x.shape, err, '-', '-', '-', '-'];
    return [
      x.op, x.backend, x.kernel, x.shape, err,
      formatSeconds(x.time.median), `${formatSeconds(x.time.min)}–${formatSeconds(x.time.max)}`,
      `${num(x.rate.median)} ${x.unit}`, x.peakFraction === null ? '-' : `${(100 * x.peakFraction).toFixed(x.peakFraction < 0.1 ? 1 : 0)}%`,
    ];
  });
  return renderTable(rows, TABLE_HEADER, { align: ['left', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'right'] });
}

/** What went wrong, one paragraph per failed row. */
export function reportNotes(r: BenchReport): string {
  return r.results
    .filter((x) => x.status !== 'ok')
    .map((x) => `${x.status === 'wrong' ? 'WRONG' : x.status === 'error' ? 'ERROR' : 'skipped'}: ${x.op} on ${x.backend} (${x.kernel}, ${x.shape}): ${x.message ?? ''}`)
    .join('\n');
}
