// The character transformer (models/char-transformer.yaml) trained by
// Tessera's wasm backend (one thread) and by PyTorch on one CPU thread
// (bench/torch_transformer.py) from the same initial weights on the same
// batches in the same order, then scored on the same validation windows:
// the validation losses (nats per character) must agree within 1% relative.
// Dropout is set to 0 for the comparison (the two sides draw different
// masks), and the cosine schedule is shortened to the step budget (warmup
// over the first 20 steps, decay over the rest) so the budget sees all of it.
// Also tokens per second of Tessera wasm, Tessera webgpu (a few steps: on
// Mesa llvmpipe it is a software GPU) and PyTorch, all from this one run.
//
// Debian's python (/usr/bin/python3) runs PyTorch, not a python earlier on PATH.
//
//   node --import tsx bench/transformer-compare.ts [--steps 150] [--val 512] [--gpu-steps 2] [--skip torch,webgpu]

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelConfig } from '../src/config/load-file.js';
import type { CosineDecaySpec, ModelSpec } from '../src/config/types.js';
import { loadDataset } from '../src/data/load-node.js';
import { sliceExamples, splitValidation } from '../src/data/split.js';
import type { DatasetTensors } from '../src/data/types.js';
import { requestNodeGpu } from '../src/node/webgpu.js';
import type { Backend } from '../src/runtime/backend.js';
import { WasmBackend } from '../src/runtime/backends/wasm.js';
import { WebGpuBackend } from '../src/runtime/backends/webgpu.js';
import { compileGraph } from '../src/runtime/graph.js';
import { initParams } from '../src/runtime/params.js';
import { epochOrder } from '../src/runtime/rng.js';
import { machine, stats, table } from './common.js';

const arg = (name: string, dflt: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1]! : dflt; };
const STEPS = Number(arg('--steps', '150'));
const VAL = Number(arg('--val', '512'));
const GPU_STEPS = Number(arg('--gpu-steps', '2'));
const skip = new Set(arg('--skip', '').split(',').filter(Boolean));
const CHUNK = 25; // wasm steps per timed chunk (medians over chunks)

const spec: ModelSpec = await loadModelConfig('models/char-transformer.yaml');
for (const layer of spec.layers as unknown as Record<string, unknown>[]) {
  if (layer.type === 'dropout') layer.rate = 0;
  if (layer.type === 'multi_head_attention') layer.dropout = 0;
}
const opt = spec.optimizer;
if (opt.type !== 'adamw') throw new Error('models/char-transformer.yaml: this benchmark expects adamw');
const schedule = opt.learning_rate as CosineDecaySpec;
const WARMUP = Math.min(20, Math.floor(STEPS / 5));
opt.learning_rate = { ...schedule, warmup_steps: WARMUP, decay_steps: STEPS - WARMUP };

const data = await loadDataset(spec, process.cwd());
spec.data = data.facts;
const T = spec.input_shape![0]!;
const BATCH = spec.training.batch_size;
const graph = compileGraph(spec, BATCH);
const init = initParams(graph);
const { train: fullTrain, validation: fullVal } = splitValidation(data.train, spec.training.validation_split!);
// One epoch of the budget: the first STEPS·BATCH training windows, the first VAL validation windows.
const train = sliceExamples(fullTrain, 0, Math.min(fullTrain.count, STEPS * BATCH));
const val = sliceExamples(fullVal, 0, Math.min(fullVal.count, VAL));
const epochs = Math.ceil(STEPS / Math.ceil(train.count / BATCH));
const orders = Array.from({ length: epochs }, (_, e) => epochOrder(train.count, graph.seed, e, true));

// The directory bench/torch_transformer.py reads.
const dir = mkdtempSync(join(tmpdir(), 'tessera-tcompare-'));
console.error(`  data for PyTorch: ${dir}`);
const ids = (d: DatasetTensors, what: 'x' | 'y') => {
  const f = what === 'x' ? new Float32Array(d.images.buffer, d.images.byteOffset, d.count * T) : d.targets!.subarray(0, d.count * T);
  return Uint16Array.from(f);
};
let offset = 0;
const index = graph.params.map((p) => { const w = { name: p.name, shape: p.shape, offset, size: p.size }; offset += p.size; return w; });
const blob = new Float32Array(offset);
init.forEach((v, i) => blob.set(v, index[i]!.offset));
writeFileSync(join(dir, 'weights.bin'), new Uint8Array(blob.buffer));
writeFileSync(join(dir, 'train_x.bin'), ids(train, 'x'));
writeFileSync(join(dir, 'train_y.bin'), ids(train, 'y'));
writeFileSync(join(dir, 'val_x.bin'), ids(val, 'x'));
writeFileSync(join(dir, 'val_y.bin'), ids(val, 'y'));
const allOrders = new Uint32Array(epochs * train.count);
orders.forEach((o, e) => allOrders.set(o, e * train.count));
writeFileSync(join(dir, 'orders.bin'), allOrders);
writeFileSync(join(dir, 'config.json'), JSON.stringify({
  T, V: data.facts.classes, batch: BATCH, steps: STEPS, layers: spec.layers, weights: index,
  optimizer: { beta_1: opt.beta_1, beta_2: opt.beta_2, epsilon: opt.epsilon, weight_decay: opt.weight_decay },
  schedule: opt.learning_rate,
}));

const stepsPerEpoch = Math.ceil(train.count / BATCH);
/** Train `steps` steps from the initial weights (in chunks, timed), then the validation loss. */
async function trainTessera(be: Backend, steps: number, chunk: number, score = true): Promise<{ seconds: number[]; losses: number[]; val: number }> {
  await be.prepare(graph, init.map((p) => p.slice()));
  await be.setDataset('train', train);
  if (score) await be.setDataset('validation', val);
  const seconds: number[] = [], losses: number[] = [];
  for (let step = 0; step < steps;) {
    const epoch = Math.floor(step / stepsPerEpoch), first = step % stepsPerEpoch;
    const n = Math.min(chunk, steps - step, stepsPerEpoch - first);
    await be.setOrder(orders[epoch]!);
    const t0 = performance.now();
    await be.trainSteps(first, n, step);
    const m = await be.readMetrics();
    seconds.push((performance.now() - t0) / 1000 / n);
    losses.push(m.lossSum / m.samples);
    step += n;
  }
  const valLoss = score ? (await be.evaluate('validation')).loss : NaN;
  be.dispose();
  return { seconds, losses, val: valLoss };
}

const tokens = BATCH * T;
const rows: string[][] = [];
const tps = (s: number[]) => { const st = stats(s); return `${(tokens / st.median).toFixed(0)} (${(tokens / st.max).toFixed(0)}–${(tokens / st.min).toFixed(0)})`; };

const wasm = await trainTessera(await WasmBackend.create({ relaxed: false, threads: 1 }), STEPS, CHUNK);
console.error(`  tessera wasm: ${STEPS} steps, val loss ${wasm.val.toFixed(4)}, chunk losses ${wasm.losses.map((l) => l.toFixed(3)).join(' ')}`);
rows.push(['Tessera wasm (SIMD, 1 thread)', `${STEPS}`, tps(wasm.seconds), wasm.val.toFixed(4), '—']);

if (!skip.has('torch')) {
  const out = execFileSync('/usr/bin/python3', ['bench/torch_transformer.py', dir, '1'], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' } });
  const t = JSON.parse(out.trim().split('\n').pop()!) as { val_loss: number; losses: number[]; tokens_per_s: number };
  const rel = Math.abs(t.val_loss - wasm.val) / t.val_loss;
  console.error(`  pytorch: val loss ${t.val_loss.toFixed(4)}, first/last step loss ${t.losses[0]!.toFixed(4)} / ${t.losses[t.losses.length - 1]!.toFixed(4)}`);
  rows.push(['PyTorch, 1 thread (OpenBLAS)', `${STEPS}`, `${t.tokens_per_s.toFixed(0)} (whole run)`, t.val_loss.toFixed(4), `${(100 * rel).toFixed(3)}% ${rel <= 0.01 ? '(agrees, ≤ 1%)' : '(DISAGREES, > 1%)'}`]);
  if (rel > 0.01) process.exitCode = 1;
}

if (!skip.has('webgpu')) {
  const gpu = await requestNodeGpu();
  if (!gpu.gpu) rows.push(['Tessera webgpu', '—', 'no adapter', '—', gpu.reason ?? '']);
  else {
    const be = await WebGpuBackend.create(gpu.gpu, { adapter: gpu.adapter, featureLevel: gpu.featureLevel });
    const name = `Tessera ${be.description.split(';')[0]}`;
    const r = await trainTessera(be, GPU_STEPS + 1, 1, false);
    rows.push([name, `${GPU_STEPS} (+1 warm-up)`, tps(r.seconds.slice(1)), '—', 'too few steps to score']);
  }
}

console.log(`\n${machine()}\nmodels/char-transformer.yaml, dropout 0, batch ${BATCH} × ${T} characters (${tokens} tokens a step), ${graph.params.reduce((a, p) => a + p.size, 0).toLocaleString('en-US')} parameters;`);
console.log(`${train.count} training windows, cosine warmup ${WARMUP} + decay ${STEPS - WARMUP} steps; validation: ${val.count} windows of the validation split\n`);
console.log(table(['trainer', 'steps', 'tokens/s median (min–max)', 'val loss (nats/char)', 'vs Tessera'], rows));
