// Where a training step of models/mnist-cnn.yaml spends its time on the
// wasm backend (one thread, plain SIMD unless --relaxed): the step's plan
// is run record by record, in order, on real batches (so each op meets the
// cache state training leaves it), and each record's time is summed.
// Prints ms per step per record and the epoch share, next to a whole-step
// timing of the same batches (trainSteps) to show the per-call overhead.
// Times are this process's CPU time (process.cpuUsage), not wall time, so
// that other jobs on a shared machine inflate them less.
//
//   node --import tsx bench/cnn-profile.ts [--steps 40] [--model models/mnist-cnn.yaml] [--kernels FILE.wasm]
//
// --kernels runs another build of the plain-SIMD kernels (e.g. the previous
// commit's build/wasm/tessera.wasm) for a before/after profile.

import { readFileSync } from 'node:fs';
import { validateModelConfig } from '../src/config/validate.js';
import { takeExamples } from '../src/data/idx.js';
import { loadMnist } from '../src/data/node.js';
import { WasmBackend } from '../src/runtime/backends/wasm.js';
import { compileGraph } from '../src/runtime/graph.js';
import { initParams } from '../src/runtime/params.js';
import { epochOrder } from '../src/runtime/rng.js';
import { OP_WORDS, trainRecords } from '../src/runtime/wasm/plan.js';
import { WASM_SIMD_BASE64 } from '../src/generated/kernels.js';

const arg = (name: string, dflt: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1]! : dflt; };
const STEPS = Number(arg('--steps', '40'));
const MODEL = arg('--model', 'models/mnist-cnn.yaml');
const TRAIN = 54_000;
const KERNELS = arg('--kernels', '');
if (KERNELS) {
  // The backend decodes its embedded base64 build with atob: hand it this file instead.
  const file = readFileSync(KERNELS).toString('latin1');
  const atob0 = globalThis.atob;
  globalThis.atob = (s: string) => (s === WASM_SIMD_BASE64 ? file : atob0(s));
}
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

const r = validateModelConfig(readFileSync(MODEL, 'utf8'), MODEL);
if (!r.ok) throw new Error(`${MODEL} is invalid`);
const g = compileGraph(r.spec);
const { train: all } = await loadMnist({ name: 'mnist' }, process.cwd());
const train = takeExamples(all, TRAIN);
const be = await WasmBackend.create({ relaxed: process.argv.includes('--relaxed'), threads: 1 });
await be.prepare(g, initParams(g));
await be.setDataset('train', train);
await be.setOrder(epochOrder(train.count, g.seed, 0, true));

// The backend's private plan and data (a benchmark's look inside).
const inner = be as unknown as { trainPlan: { ptr: number; ops: number }; data: { train: { images: number; labels: number } }; order: { ptr: number }; trainMetrics: number };
const { exports: k } = be.kernels;
const plan = inner.trainPlan, d = inner.data.train;
// The plan's records in order, as the one-thread backend builds them (pool-then-dW pairs fused: src/runtime/wasm/fuse.ts);
// only their ops are read here, so the layout's addresses do not matter.
const records = trainRecords(g, { ptr: () => 0, transposed: () => 0, labels: 0 }, new Set(), true);
if (records.length !== plan.ops) throw new Error(`cnn-profile: ${records.length} records named, the backend's plan has ${plan.ops}`);
const names = records.map(({ op }) => {
  const r = op as { kind: string; layer?: string; pool?: { layer: string }; conv?: { layer: string } };
  if (r.pool && r.conv) return `${r.kind} ${r.pool.layer} + ${r.conv.layer}`;
  return r.kind === 'transpose' ? 'transpose (kernel copy)' : `${r.kind} ${r.layer ?? ''}`;
});
const o = g.optimizer;
const B = g.batchSize;
const ms = new Float64Array(plan.ops);

// Warm-up, then the timed steps.
for (let s = -3; s < STEPS; s++) {
  const step = Math.max(s, 0);
  for (let i = 0; i < plan.ops; i++) {
    const t0 = cpuMs();
    k.runRecordsOn(plan.ptr + i * OP_WORDS * 4, 1, B, step, g.seed | 0, inner.trainMetrics, o.learningRate ?? 0.001, o.beta1, o.beta2, o.epsilon, d.images, d.labels, inner.order.ptr, step * B);
    if (s >= 0) ms[i] += cpuMs() - t0;
  }
}
const t0 = cpuMs();
await be.trainSteps(0, STEPS, 0);
const whole = (cpuMs() - t0) / STEPS;

const total = ms.reduce((a, b) => a + b, 0) / STEPS;
const steps = Math.ceil(TRAIN / B);
console.log(`${MODEL}, ${be.description}${KERNELS ? ` (kernels: ${KERNELS})` : ''}, ${STEPS} steps of ${B}, CPU time`);
console.log('| record | ms / step | share | s / epoch |');
console.log('|---|---|---|---|');
names.forEach((n, i) => {
  const m = ms[i]! / STEPS;
  console.log(`| ${n} | ${m.toFixed(3)} | ${(100 * m / total).toFixed(1)}% | ${(m * steps / 1000).toFixed(2)} |`);
});
console.log(`| sum of records | ${total.toFixed(2)} | 100% | ${(total * steps / 1000).toFixed(2)} |`);
console.log(`| whole step (trainSteps) | ${whole.toFixed(2)} | | ${(whole * steps / 1000).toFixed(2)} |`);
be.dispose();
