// A synthetic uint8 image set of about 200 MB, larger than one WebGPU
// storage binding (128 MiB on Dawn's llvmpipe adapter), trained on webgpu
// (split into shards) and on wasm from the same seed: both losses, the
// shard count, the wall time and the peak resident memory of each run.
//
//   node --import tsx bench/shards.ts [--count 65536] [--test 8192] [--epochs 1] [--batch 256] [--dir /tmp/tessera-synthetic] [--more-shards BYTES] [--backends webgpu,wasm]
//
// The set is written once as IDX files (count × 32 × 32 × 3 bytes, gzip-free)
// into --dir with a model file beside them (never into the repository), so
// `tessera train <dir>/synthetic.yaml --backend webgpu` trains the same
// thing. Each backend then runs in its own Node process, as `tessera train`
// does (the model file's loader, Model.fit over whole epochs, then the test
// set), so each peak RSS is that run's alone. The RSS before loading is
// the process's own (Node, the modules); after loading, it adds the data
// held before any backend holds a copy. --more-shards BYTES adds a third
// run, on webgpu with shards of at most BYTES (TESSERA_WEBGPU_SHARD_BYTES):
// the same losses, one more gather dispatch per step for each shard.
//
// Classes: 10, each a colour and a striped pattern of its own (orientation
// and frequency), at a low random contrast per image (32–64 grey levels)
// under uniform per-pixel noise of ±40, which an MLP learns in one epoch;
// one label in ten is a random class, so about 91% is the best accuracy.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModelWithData } from '../src/cli/model-file.js';
import { createModelBackend } from '../src/cli/model-backend.js';
import { Model } from '../src/runtime/model.js';
import { WebGpuBackend } from '../src/runtime/backends/webgpu.js';
import { machine } from './common.js';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : dflt;
};
const COUNT = Number(arg('count', '65536'));
const TEST = Number(arg('test', '8192'));
const EPOCHS = Number(arg('epochs', '1'));
const BATCH = Number(arg('batch', '256'));
const DIR = arg('dir', '/tmp/tessera-synthetic');
const MORE_SHARDS = arg('more-shards', '');
const BACKENDS = arg('backends', 'webgpu,wasm').split(',');
const H = 32, W = 32, C = 3, F = H * W * C, CLASSES = 10;

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const MB = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** xorshift32: cheap, seeded, the same stream every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
}

/** Each class's pattern in [-1, 1]: stripes of its own angle and frequency, in its own colour balance. */
function templates(): Float32Array[] {
  const out: Float32Array[] = [];
  for (let c = 0; c < CLASSES; c++) {
    const t = new Float32Array(F);
    const angle = (Math.PI * c) / CLASSES, freq = 0.25 + 0.08 * (c % 4);
    const colour = [Math.cos(c), Math.sin(2 * c), Math.cos(3 * c + 1)];
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const v = Math.sin(freq * (x * Math.cos(angle) + y * Math.sin(angle)) * 2 * Math.PI);
        for (let ch = 0; ch < C; ch++) t[(y * W + x) * C + ch] = 0.6 * v + 0.4 * colour[ch]!;
      }
    }
    out.push(t);
  }
  return out;
}

/** Write `count` images and their labels as IDX files, 4,096 examples at a time (the generator never holds the set). */
function writeSet(images: string, labels: string, count: number, seed: number): void {
  const t = templates(), next = rng(seed);
  const fi = openSync(images, 'w'), fl = openSync(labels, 'w');
  const header = (dims: number[]) => {
    const b = Buffer.alloc(4 + 4 * dims.length);
    b[2] = 0x08; b[3] = dims.length;
    dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
    return b;
  };
  writeSync(fi, header([count, H, W, C]));
  writeSync(fl, header([count]));
  const chunk = 4096, pix = Buffer.alloc(chunk * F), lab = Buffer.alloc(chunk);
  for (let first = 0; first < count; first += chunk) {
    const n = Math.min(chunk, count - first);
    for (let e = 0; e < n; e++) {
      const c = Math.floor(next() * CLASSES), contrast = 32 + 32 * next(), tc = t[c]!;
      lab[e] = next() < 0.1 ? Math.floor(next() * CLASSES) : c; // 10% of the labels are noise: about 91% is the best accuracy
      for (let k = 0; k < F; k++) {
        const v = 128 + contrast * tc[k]! + 80 * (next() - 0.5);
        pix[e * F + k] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
    writeSync(fi, pix, 0, n * F);
    writeSync(fl, lab, 0, n);
  }
  closeSync(fi);
  closeSync(fl);
}

const MODEL = `# A synthetic set of 32×32 RGB images in 10 classes, written by bench/shards.ts.
name: synthetic-200mb
seed: 7
layers:
  - type: flatten
  - type: dense
    units: 32
    activation: relu
  - type: dense
    units: ${CLASSES}
    activation: linear
loss: {type: sparse_categorical_crossentropy, from_logits: true}
optimizer: {type: adam, learning_rate: 0.001}
metrics: [accuracy]
training: {epochs: ${EPOCHS}, batch_size: ${BATCH}, shuffle: true}
dataset:
  format: idx
  train_images: train-images-idx3-ubyte
  train_labels: train-labels-idx1-ubyte
  test_images: test-images-idx3-ubyte
  test_labels: test-labels-idx1-ubyte
backend: auto
`;

interface RunResult {
  backend: string; description: string; shards: number; trainBytes: number;
  epochLosses: number[]; testLoss: number; testAccuracy: number; steps: number;
  seconds: number; rssBeforeLoad: number; rssAfterLoad: number; peakRss: number;
}

/** One backend's run (in its own process): load through the model file, fit, evaluate. */
async function child(name: 'webgpu' | 'wasm'): Promise<void> {
  const rssBeforeLoad = process.memoryUsage().rss;
  const { spec, data } = await loadModelWithData(join(DIR, 'synthetic.yaml'));
  const rssAfterLoad = process.memoryUsage().rss;
  const plan = Model.plan(spec);
  const { backend } = await createModelBackend(plan, name, { threads: 1, source: 'bench/shards.ts' });
  const model = await Model.open(plan, { backend });
  const t0 = performance.now();
  const fitted = await model.fit(data.train, { test: data.test });
  const seconds = (performance.now() - t0) / 1000;
  const out: RunResult = {
    backend: name, description: backend.description,
    shards: backend instanceof WebGpuBackend ? backend.shardsOf('train') : 0, trainBytes: data.train.images.length,
    epochLosses: fitted.epochs.map((e) => e.loss), testLoss: fitted.test!.loss, testAccuracy: fitted.test!.accuracy, steps: fitted.steps,
    seconds, rssBeforeLoad, rssAfterLoad, peakRss: process.resourceUsage().maxRSS * 1024,
  };
  model.dispose();
  process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
  process.exit(0);
}

function runChild(name: string, shardBytes: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, TESSERA_WEBGPU_SHARD_BYTES: shardBytes };
    const p = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', name, ...argv], { stdio: ['ignore', 'pipe', 'inherit'], env });
    let text = '';
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d) => { text += d; });
    p.on('close', (code) => {
      const line = text.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) reject(new Error(`${name} run failed (exit ${code}):\n${text}`));
      else resolve(JSON.parse(line.slice(7)) as RunResult);
    });
  });
}

async function main(): Promise<void> {
  const which = argv.indexOf('--child');
  if (which >= 0) return child(argv[which + 1] as 'webgpu' | 'wasm');
  console.log(`# bench/shards.ts: ${machine()}`);
  mkdirSync(DIR, { recursive: true });
  const trainImages = join(DIR, 'train-images-idx3-ubyte');
  // The files are reused by a later run with the same sizes and generator (its source is the stamp).
  const stamp = join(DIR, 'generator.txt'), source = `${COUNT} ${TEST} ${templates.toString()} ${writeSet.toString()}`;
  if (!existsSync(trainImages) || statSync(trainImages).size !== 16 + COUNT * F || !existsSync(stamp) || readFileSync(stamp, 'utf8') !== source) {
    const t0 = performance.now();
    writeSet(trainImages, join(DIR, 'train-labels-idx1-ubyte'), COUNT, 1);
    writeSet(join(DIR, 'test-images-idx3-ubyte'), join(DIR, 'test-labels-idx1-ubyte'), TEST, 2);
    writeFileSync(stamp, source);
    console.log(`wrote ${COUNT} + ${TEST} images of ${H}×${W}×${C} to ${DIR} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  writeFileSync(join(DIR, 'synthetic.yaml'), MODEL);
  console.log(`training set: ${COUNT} examples × ${F} bytes = ${MB(COUNT * F)} (${mib(COUNT * F)}); test set ${MB(TEST * F)}; ${EPOCHS} epoch(s) of ${Math.ceil(COUNT / BATCH)} steps at batch ${BATCH}`);
  const runs: RunResult[] = [];
  const plan: [string, string][] = [...BACKENDS.map((b) => [b, ''] as [string, string]), ...(MORE_SHARDS ? [['webgpu', MORE_SHARDS] as [string, string]] : [])];
  for (const [name, shardBytes] of plan) {
    const r = await runChild(name, shardBytes);
    runs.push(r);
    console.log(`${name}${shardBytes ? ` (TESSERA_WEBGPU_SHARD_BYTES=${shardBytes})` : ''}: ${r.description}`);
    console.log(`  shards ${r.shards || '-'}, epoch losses ${r.epochLosses.map((l) => l.toPrecision(8)).join(', ')}, test loss ${r.testLoss.toPrecision(8)}, accuracy ${(100 * r.testAccuracy).toFixed(2)}%`);
    console.log(`  ${r.steps} steps + test in ${r.seconds.toFixed(1)} s; RSS before loading ${mib(r.rssBeforeLoad)}, after loading the data ${mib(r.rssAfterLoad)}, peak ${mib(r.peakRss)}`);
  }
  if (runs.length < 2) return;
  const [g, w, more] = runs as [RunResult, RunResult, RunResult | undefined];
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
  console.log(`webgpu vs wasm: epoch loss rel. diff ${g.epochLosses.map((l, i) => rel(l, w.epochLosses[i]!).toExponential(2)).join(', ')}; test loss ${rel(g.testLoss, w.testLoss).toExponential(2)}`);
  if (more) console.log(`webgpu in ${more.shards} shards vs ${g.shards}: epoch losses ${more.epochLosses.every((l, i) => l === g.epochLosses[i]) ? 'identical' : 'DIFFER'}, test loss ${more.testLoss === g.testLoss ? 'identical' : 'DIFFERS'}`);
}

await main();
