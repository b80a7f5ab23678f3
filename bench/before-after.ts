// The flagship model trained by two versions of Tessera in one run: this
// tree and an earlier checkout (e.g. the commit before a refactor), on the
// same backend, epochs interleaved (before, after, before, …) so that the
// machine's noise hits both alike. Prints seconds per epoch (median and
// min–max) with the ratio, and the mean training loss after every epoch of
// each, which must be identical when the refactor changed no arithmetic.
//
//   git worktree add /tmp/before <commit> && (cd /tmp/before && ln -s $PWD/node_modules . && node scripts/build.mjs kernels)
//   node --import tsx bench/before-after.ts --before /tmp/before [--backend wasm|webgpu|js] [--epochs 5]
//
// The wasm rows use the plain-SIMD build (Node's default without flags).

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { machine, stats, table } from './common.js';

const arg = (name: string, dflt: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1]! : dflt; };
const BEFORE = resolve(arg('--before', ''));
const BACKEND = arg('--backend', 'wasm');
const EPOCHS = Number(arg('--epochs', '5'));
if (!arg('--before', '')) throw new Error('give --before <path of the earlier checkout>');

interface Version {
  label: string;
  step(epoch: number): Promise<{ seconds: number; loss: number }>;
  finish(): Promise<number>;
}

/** Loads one tree's modules (by path, so the two versions never share a module) and prepares the flagship on BACKEND. */
async function load(root: string, label: string): Promise<Version> {
  const mod = (p: string) => import(pathToFileURL(resolve(root, p)).href);
  const { readFileSync } = await import('node:fs');
  const { validateModelConfig } = await mod('src/config/validate.ts');
  const { compileGraph } = await mod('src/runtime/graph.ts');
  const { initParams } = await mod('src/runtime/params.ts');
  const { epochOrder } = await mod('src/runtime/rng.ts');
  const { loadMnist } = await mod('src/data/node.ts');
  const spec = validateModelConfig(readFileSync(resolve(root, 'models/mnist.yaml'), 'utf8'), 'models/mnist.yaml').spec;
  const g = compileGraph(spec);
  const { train, test } = await loadMnist({ name: 'mnist' }, root);
  let backend;
  if (BACKEND === 'js') {
    const { JsBackend } = await mod('src/runtime/backends/js.ts');
    backend = new JsBackend();
  } else if (BACKEND === 'wasm') {
    const { WasmBackend } = await mod('src/runtime/backends/wasm.ts');
    backend = await WasmBackend.create({ relaxed: false });
  } else {
    const { requestNodeGpu } = await mod('src/node/webgpu.ts');
    const { WebGpuBackend } = await mod('src/runtime/backends/webgpu.ts');
    const gpu = await requestNodeGpu();
    if (!gpu.gpu) throw new Error(`no WebGPU adapter: ${gpu.reason}`);
    backend = await WebGpuBackend.create(gpu.gpu, { adapter: gpu.adapter, featureLevel: gpu.featureLevel });
  }
  await backend.prepare(g, initParams(g));
  await backend.setDataset('train', train);
  await backend.setDataset('test', test);
  const steps = Math.ceil(train.count / g.batchSize);
  return {
    label,
    async step(epoch) {
      await backend.setOrder(epochOrder(train.count, g.seed, epoch, spec.training.shuffle));
      const t0 = performance.now();
      await backend.trainSteps(0, steps, epoch * steps);
      const m = await backend.readMetrics(); // the read waits for the device: part of the epoch
      return { seconds: (performance.now() - t0) / 1000, loss: m.lossSum / m.samples };
    },
    async finish() {
      const ev = await backend.evaluate('test');
      backend.dispose();
      return ev.accuracy;
    },
  };
}

const versions = [await load(BEFORE, `before (${BEFORE})`), await load(process.cwd(), 'after (this tree)')];
const seconds: number[][] = versions.map(() => []);
const losses: number[][] = versions.map(() => []);
for (let e = 0; e < EPOCHS; e++) {
  for (const [i, v] of versions.entries()) {
    const r = await v.step(e);
    seconds[i]!.push(r.seconds);
    losses[i]!.push(r.loss);
    console.error(`  ${v.label}: epoch ${e + 1} ${r.seconds.toFixed(2)} s, loss ${r.loss}`);
  }
}
const accuracy = await Promise.all(versions.map((v) => v.finish()));

console.log(`\n${machine()}\nflagship (models/mnist.yaml), ${BACKEND}, ${EPOCHS} epochs each, interleaved\n`);
const s = seconds.map(stats);
console.log(table(['version', 's/epoch median (min–max)', 'test accuracy', 'time / before'], versions.map((v, i) => [
  v.label, `${s[i]!.median.toFixed(2)} (${s[i]!.min.toFixed(2)}–${s[i]!.max.toFixed(2)})`, `${(100 * accuracy[i]!).toFixed(2)}%`, `${(s[i]!.median / s[0]!.median).toFixed(3)}×`,
])));
console.log('\nmean training loss after each epoch:');
console.log(table(['epoch', 'before', 'after', 'identical'], losses[0]!.map((l, e) => [String(e + 1), String(l), String(losses[1]![e]), l === losses[1]![e] ? 'yes' : 'NO'])));
