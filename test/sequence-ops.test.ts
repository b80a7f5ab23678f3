// The sequence ops' references against hand-worked Keras values, and the
// determinism their kernels promise: layer_norm is Keras's
// LayerNormalization (biased variance, ε inside the square root, γ and β
// optional); embedding clamps and truncates token ids; the scatter-add of
// embedding_backward and the batch sum of position_embedding_backward are
// bit-identical to the reference on wasm and webgpu (each element sums its
// terms in the same order everywhere, no atomics), also where every
// position hits a few table rows.
//
// No adapter: under CI=true the webgpu case fails; otherwise it is skipped loudly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { instanceBuffers, outputsOf, randomFloats, runReference, type OpData } from '../src/bench/ops.js';
import type { OpRunner } from '../src/bench/runner.js';
import { WasmOpRunner } from '../src/bench/wasm.js';
import { WebGpuOpRunner } from '../src/bench/webgpu.js';
import { requestNodeGpu } from '../src/node/webgpu.js';
import { embeddingForward, tokenRow } from '../src/ops/embedding.js';
import { opDef } from '../src/ops/index.js';
import { layerNormForward } from '../src/ops/layer_norm.js';
import type { OpInstance, OpRecordBase } from '../src/ops/types.js';

const CI = process.env.CI === 'true' || process.env.CI === '1';

test('layer_norm: Keras LayerNormalization values (biased variance, ε = 0.001 inside the root), with and without γ, β', () => {
  const x = Float32Array.from([1, 2, 3, 4, -1, 0, 0, 5]);
  const y = new Float32Array(8), mean = new Float32Array(2), rstd = new Float32Array(2);
  layerNormForward(x, null, null, y, mean, rstd, 2, 4, 0.001);
  // Vector 1: μ = 2.5, σ² = 1.25; vector 2: μ = 1, σ² = (4 + 1 + 1 + 16)/4 = 5.5.
  const want = [-1.5, -0.5, 0.5, 1.5].map((c) => c / Math.sqrt(1.251)).concat([-2, -1, -1, 4].map((c) => c / Math.sqrt(5.501)));
  want.forEach((w, i) => assert.ok(Math.abs(y[i]! - w) < 1e-6, `y[${i}] = ${y[i]}, want ${w}`));
  assert.equal(Array.from(mean), [2.5, 1]);
  assert.ok(Math.abs(rstd[0]! - 1 / Math.sqrt(1.251)) < 1e-7 && Math.abs(rstd[1]! - 1 / Math.sqrt(5.501)) < 1e-7);
  const gamma = Float32Array.from([2, 0.5, -1, 1]), beta = Float32Array.from([0, 1, 0, -3]);
  const ya = new Float32Array(8);
  layerNormForward(x, gamma, beta, ya, mean, rstd, 2, 4, 0.001);
  ya.forEach((v, i) => assert.ok(Math.abs(v - (want[i]! * gamma[i % 4]! + beta[i % 4]!)) < 1e-6, `γ, β: y[${i}]`));
  // A constant vector normalises to β (σ² = 0: only ε keeps rstd finite).
  const yc = new Float32Array(4);
  layerNormForward(Float32Array.from([3, 3, 3, 3]), gamma, beta, yc, mean, rstd, 1, 4, 0.001);
  assert.equal(Array.from(yc), Array.from(beta));
});

test('embedding: ids are clamped to the vocabulary and truncated; NaN reads row 0', () => {
  const V = 3, D = 2;
  assert.equal([-3, 0, 0.9, 1, 2.7, 3, 99, Number.NaN].map((id) => tokenRow(id, V)), [0, 0, 0, 1, 2, 2, 2, 0]);
  const table = Float32Array.from([10, 11, 20, 21, 30, 31]);
  const y = new Float32Array(4 * D);
  embeddingForward(Float32Array.from([2, -1, 1.5, 7]), table, y, 4, D, V);
  assert.equal(Array.from(y), [30, 31, 10, 11, 20, 21, 30, 31]);
});

/** An instance of `kind` with `ids` crowded onto few rows (many terms per table element). */
function crowded(kind: string, dims: number[]): OpInstance<OpRecordBase> {
  const inst = opDef(kind).bench!.instance(dims, randomFloats(77, 300));
  if (inst.inputs.ids) inst.inputs.ids = inst.inputs.ids.map((v, i) => (i % 5 === 0 ? v : i % 3));
  return inst;
}

/** Runs the instance on a runner; asserts every output is the reference's, bit for bit. */
async function bitExact(runner: OpRunner, kind: string, dims: number[]): Promise<void> {
  const def = opDef(kind), inst = crowded(kind, dims);
  const bufs = instanceBuffers(inst);
  runReference(def, inst, bufs);
  const expected = outputsOf(inst, (name, n) => bufs[name]!.slice(0, n));
  const data: OpData = { instance: inst, inputs: inst.inputs, expected };
  const kernel = await runner.prepare({ ...def.bench!.work(dims), op: kind, dims }, data);
  try {
    const got = await kernel.check();
    for (const [name, want] of Object.entries(expected)) {
      const have = got.arrays[name]!;
      for (let i = 0; i < want.length; i++) {
        if (!Object.is(have[i], want[i])) assert.unreachable(`${runner.backend} ${kind} ${dims.join('×')}: ${name}[${i}] = ${have[i]}, the reference has ${want[i]}`);
      }
    }
  } finally {
    kernel.dispose();
  }
}

// 4 rows of 37 positions onto a vocabulary of 70 (two WebGPU blocks), D = 9; a batch of 5 for the position sums.
const CASES: [string, number[]][] = [['embedding_backward', [4, 37, 9, 70]], ['position_embedding_backward', [5, 11, 7]]];

test('wasm: embedding_backward and position_embedding_backward are bit-identical to the reference', async () => {
  const runner = await WasmOpRunner.create(false);
  for (const [kind, dims] of CASES) await bitExact(runner, kind, dims);
});

const gpu = await requestNodeGpu();
if (!gpu.gpu) {
  if (CI) test('a WebGPU adapter is available (required under CI=true)', () => assert.unreachable(`no WebGPU adapter: ${gpu.reason}`));
  else console.error(`\n!! sequence-ops: SKIPPED webgpu: no adapter (${gpu.reason}); CI=true makes this a failure\n`);
} else {
  test('webgpu: embedding_backward and position_embedding_backward are bit-identical to the reference', async () => {
    const runner = await WebGpuOpRunner.create(gpu.adapter, 'sequence-ops');
    try {
      for (const [kind, dims] of CASES) await bitExact(runner, kind, dims);
    } finally {
      runner.dispose();
    }
  });
}

test.run();
