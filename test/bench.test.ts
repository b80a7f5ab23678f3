// `tessera bench` and custom kernels (issue 7): the js and wasm op runners
// and the CLI's table and --json; the WGSL contract checks; on WebGPU, a
// correct custom kernel passes the check and trains exactly like the
// built-in, a wrong one is rejected with its error and first mismatching
// index, and a WGSL syntax error is reported at its line in the user's file.
// On wasm (no GPU needed) the same for custom AssemblyScript kernels.
// Assertions are about structure and correctness, never speed.
//
// No WebGPU adapter: under CI=true the WebGPU tests fail; otherwise they are skipped loudly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchCase } from '../src/bench/bench.js';
import { compareOutputs } from '../src/bench/check.js';
import { JsOpRunner } from '../src/bench/js.js';
import { benchOps, caseFromMKN, casesOfGraph, makeData, shapeText, type OpData } from '../src/bench/ops.js';
import { WasmOpRunner } from '../src/bench/wasm.js';
import { WebGpuOpRunner } from '../src/bench/webgpu.js';
import { toCustomWasmKernel, type AsKernel } from '../src/custom/assemblyscript.js';
import { verifyCustomKernels, verifyCustomWasmKernels } from '../src/custom/check.js';
import { KernelRejectedError } from '../src/custom/errors.js';
import { loadCustomKernel } from '../src/custom/load-node.js';
import { parseWgslKernel, toCustomKernel, type WgslKernel } from '../src/custom/wgsl.js';
import { loadModelConfig } from '../src/config/load-file.js';
import { requestNodeGpu } from '../src/node/webgpu.js';
import { WasmBackend } from '../src/runtime/backends/wasm.js';
import { WebGpuBackend } from '../src/runtime/backends/webgpu.js';
import { compileGraph } from '../src/runtime/graph.js';
import { initParams } from '../src/runtime/params.js';

import { tessera } from './support/cli.js';
import { beforeOrFail } from './support/setup.js';
import { relErr, updateErr } from './support/compare.js';
import { adam64, dense64, denseGradInput64, denseGradWeights64, dropout64, dropoutKeep64, keyBig, reluGrad64, softmaxXent64 } from './support/oracle64.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
const EXAMPLE = 'examples/custom-kernel/dense_forward_4x8.wgsl';
const example = readFileSync(EXAMPLE, 'utf8');
/** The example with one line replaced, written to the temp dir. */
function variant(name: string, from: string, to: string): string {
  assert.ok(example.includes(from), `example contains ${from}`);
  const file = join(dir, name);
  writeFileSync(file, example.replace(from, to));
  return file;
}
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
const AWKWARD: [number, number, number][] = [[1, 1, 1], [3, 7, 5], [7, 33, 10]];

type Oracle = (d: OpData, dims: number[]) => { arrays: Record<string, Float64Array>; scalars?: Record<string, number> };
/** Dropout's expected output by the RNG's definition (float64 hash), from the instance's seed, stream, step and rate. */
const dropoutOracle = (from: string, to: string): Oracle => (d) => {
  const op = d.instance.op as unknown as { stream: number; rate: number };
  const x = d.inputs[from]!;
  return { arrays: { [to]: dropout64(x, dropoutKeep64(keyBig(d.instance.seed, op.stream, d.instance.step), x.length, op.rate), op.rate) } };
};
/** Independent float64 formulas (test/support/oracle64.ts) for the ops that have one, by the bench instances' buffer names. */
const ORACLES: Record<string, Oracle> = {
  dense_forward: ({ inputs: i }, [M, K, N]) => ({ arrays: { y: dense64(i.x!, i.w!, i.b!, M!, K!, N!, true) } }),
  dense_backward_weights: ({ inputs: i }, [M, K, N]) => ({ arrays: denseGradWeights64(i.x!, i.dy!, M!, K!, N!) }),
  dense_backward_input: ({ inputs: i }, [M, K, N]) => ({ arrays: { dx: denseGradInput64(i.dy!, i.w!, i.relu_out!, M!, K!, N!) } }),
  relu_backward: ({ inputs: i }) => ({ arrays: { dx: reluGrad64(i.dy!, i.y!) } }),
  dropout: dropoutOracle('x', 'y'),
  dropout_backward: dropoutOracle('dy', 'dx'),
  softmax_xent: (d, [M, C]) => {
    const r = softmaxXent64(d.inputs.logits!, d.labels!, M!, C!);
    return { arrays: { dlogits: r.dlogits }, scalars: { lossSum: r.lossSum, correct: r.correct } };
  },
  adam: (d) => ({ arrays: adam64(d.inputs.p!, d.inputs.g!, d.inputs.m!, d.inputs.v!, d.instance.optimizer, d.instance.step + 1) }),
};

// ---------------------------------------------------------------- no GPU needed

test('the wasm runner matches the reference on every benchable op at awkward shapes', async () => {
  const wasm = await WasmOpRunner.create(false);
  for (const shape of AWKWARD) {
    for (const op of benchOps()) {
      const row = await benchCase(caseFromMKN(op, shape), 'wasm', 'built-in', wasm, null, 'check only');
      assert.is(row.status, 'ok', `wasm ${op} ${row.shape}: ${row.message}`);
      assert.ok(row.maxRelErr !== null && row.maxRelErr < 1e-5, `wasm ${op}: ${row.maxRelErr}`);
    }
  }
});

// The js runner runs the reference itself, so checking it against the
// reference would compare it with itself (bench marks its rows 'reference'
// and claims no check): it is checked against independent float64 formulas
// instead (test/support/oracle64.ts), for the ops that have one.
test('the js runner matches independent float64 formulas at awkward shapes, and claims no check against itself', async () => {
  const js = new JsOpRunner();
  for (const shape of AWKWARD) {
    for (const [op, oracle] of Object.entries(ORACLES)) {
      const c = caseFromMKN(op, shape);
      const data = makeData(c);
      const prepared = await js.prepare(c, data);
      assert.is(prepared.isReference, true);
      const got = await prepared.check();
      prepared.dispose();
      const want = oracle(data, c.dims);
      const tag = `js ${op} ${shapeText(c)}`;
      assert.equal(Object.keys(want.arrays).sort(), Object.keys(data.expected).sort(), `${tag}: every output is checked`);
      for (const [name, w] of Object.entries(want.arrays)) {
        const a = got.arrays[name]!;
        // Adam's parameters: the error relative to the step, not to the parameters.
        const e = op === 'adam' && name === 'p' ? updateErr(a, data.inputs.p!, w) : relErr(a, w);
        assert.ok(e < 1e-5, `${tag} ${name}: error ${e}`);
      }
      assert.equal(Object.keys(want.scalars ?? {}).sort(), Object.keys(data.scalars ?? {}).sort(), `${tag}: scalars`);
      for (const [name, w] of Object.entries(want.scalars ?? {})) {
        const a = got.scalars?.[name];
        assert.ok(a !== undefined && Math.abs(a - w) <= 1e-9 * Math.max(1, Math.abs(w)), `${tag} ${name}: ${a} vs ${w}`);
      }
    }
  }
  const row = await benchCase(caseFromMKN('dense_forward', [3, 7, 5]), 'js', 'built-in', js, null, 'check only');
  assert.is(row.reference, true);
  assert.is(row.maxRelErr, null);
});

test('compareOutputs: a wrong output gives its max error and first mismatching index', () => {
  const data = makeData(caseFromMKN('relu_backward', [2, 3, 4]));
  const got = data.expected.dx!.slice();
  got[5] += 10;
  const r = compareOutputs({ arrays: { dx: got } }, data);
  assert.is(r.ok, false);
  assert.is(r.mismatch?.index, 5);
  assert.is(r.mismatch?.output, 'dx');
  assert.match(r.message!, /first mismatch at dx\[5\]/);
});

test('WGSL contract: wrong bindings are named; missing overrides and tile are reported', () => {
  const bad = example.replace('var<storage, read> b:', 'var<storage, read_write> b:').replace('@binding(4)', '@binding(6)');
  try {
    parseWgslKernel('dense_forward', 'bad.wgsl', bad);
    assert.unreachable('should be rejected');
  } catch (e) {
    assert.instance(e, KernelRejectedError);
    const m = (e as Error).message;
    assert.match(m, `bad.wgsl:${lineOf(bad, 'read_write> b:')}: binding 3 ('b') is declared var<storage, read_write>`);
    assert.match(m, "binding 6 ('y') is not in the dense_forward contract");
  }
  const noTile = example.replace(/const TILE_N[^\n]*\n/, '').replace('override RELU: bool = false;', '');
  assert.throws(() => parseWgslKernel('dense_forward', 'x.wgsl', noTile), /declare 'override RELU'[\s\S]*TILE_M/);
  assert.throws(() => parseWgslKernel('conv3d', 'x.wgsl', example), /custom WGSL kernels can replace gather, (.*, )?dense_forward, .*adam.*; 'conv3d' is not one of them/);
  const k = parseWgslKernel('dense_forward', 'ok.wgsl', example);
  assert.equal([k.tileM, k.tileN], [32, 64]);
});

test('tessera bench --backend js: aligned table with every flagship op, and --json with the documented fields', async () => {
  const json = join(dir, 'bench.json');
  const r = await tessera('bench', '--backend', 'js', '--shape', '3,7,5', '--repeat', '2', '--json', json);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  const head = lines.findIndex((l) => /^op\s+backend\s+kernel\s+shape\s+max rel err\s+median\s+min–max\s+rate\s+% peak$/.test(l));
  assert.ok(head >= 0, r.stdout);
  const rows = lines.slice(head + 1).filter((l) => /^\S+\s+js\s/.test(l));
  assert.is(rows.length, benchOps().length);
  // The js runner is the reference: its rows say so instead of an error of 0 against itself.
  assert.match(r.stdout, /dense_forward\s+js\s+built-in\s+3×7×5\s+reference\s+[\d.]+ µs/);
  const report = JSON.parse(readFileSync(json, 'utf8'));
  for (const key of ['machine', 'node', 'date', 'repeats', 'backends', 'results']) assert.ok(key in report, key);
  assert.is(report.backends[0].name, 'js');
  assert.ok(report.backends[0].peak.gflops > 0 && report.backends[0].peak.gbps > 0);
  const row = report.results.find((x: { op: string }) => x.op === 'dense_forward');
  for (const key of ['op', 'backend', 'kernel', 'shape', 'dims', 'status', 'maxRelErr', 'tolerance', 'time', 'flops', 'bytes', 'unit', 'rate', 'peakFraction']) assert.ok(key in row, key);
  assert.equal(row.dims, [3, 7, 5]);
  assert.is(row.status, 'ok');
  assert.is(row.unit, 'GFLOP/s');
  assert.is(row.flops, 2 * 3 * 7 * 5);
  for (const key of ['median', 'min', 'max', 'repeats', 'callsPerRepeat']) assert.type(row.time[key], 'number');
  assert.is(row.time.repeats, 2);
  assert.ok(row.time.min <= row.time.median && row.time.median <= row.time.max);
  assert.ok(row.rate.median > 0 && row.peakFraction > 0);
});

test('tessera bench --backend wasm runs the flagship shapes; bad flags are usage errors', async () => {
  const r = await tessera('bench', '--backend', 'wasm', '--op', 'dense_forward,adam', '--repeat', '1');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /wasm: wasm \(/);
  assert.match(r.stdout, /peak: [\d.]+ GFLOP\/s/);
  assert.match(r.stdout, /dense_forward\s+wasm\s+built-in\s+32×784×128\s+[\d.e-]+\s+[\d.]+ [µm]s/);
  assert.match(r.stdout, /adam\s+wasm\s+built-in\s+100352\s/);
  const bad = await tessera('bench', '--op', 'matmul');
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /unknown op 'matmul'/);
  // An AssemblyScript kernel runs on wasm only: asking for it on webgpu alone is a usage error.
  const ts = await tessera('bench', '--backend', 'webgpu', '--kernel', 'dense_forward=./k.ts');
  assert.is(ts.code, 2);
  assert.match(ts.stderr, /custom AssemblyScript kernels run on the wasm backend; add --backend wasm/);
  assert.not.match(ts.stderr, /\n\s+at /);
  const missing = await tessera('bench', '--backend', 'wasm', '--kernel', 'dense_forward=./k.ts');
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /cannot read the custom dense_forward kernel \.\/k\.ts: no such file/);
});

test('tessera bench --model: every benchable op of the model\'s graph at its shapes, plus a train_step row; --op of an op the model lacks is benched at the default shape', async () => {
  const yaml = readFileSync('models/mnist.yaml', 'utf8').replace('units: 128\n    activation: relu', 'units: 16\n    activation: tanh');
  const model = join(dir, 'tiny.yaml');
  writeFileSync(model, yaml);
  const json = join(dir, 'model-bench.json');
  const r = await tessera('bench', '--backend', 'js', '--model', model, '--repeat', '1', '--json', json);
  assert.is(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(json, 'utf8'));
  const graph = compileGraph(await loadModelConfig(model));
  const want = casesOfGraph(graph).map((c) => `${c.op} ${shapeText(c)}`);
  const got = report.results.filter((x: { op: string }) => x.op !== 'train_step').map((x: { op: string; shape: string }) => `${x.op} ${x.shape}`);
  assert.equal(got, want);
  assert.ok(want.includes('tanh 32×16') && want.includes('tanh_backward 32×16'), want.join(', '));
  const step = report.results.find((x: { op: string }) => x.op === 'train_step');
  assert.is(step?.status, 'ok', step?.message);
  const other = await tessera('bench', '--backend', 'js', '--op', 'sigmoid', '--repeat', '1');
  assert.is(other.code, 0, other.stderr);
  assert.match(other.stdout, /note: models\/mnist\.yaml runs no sigmoid: benched at --shape 32,784,128/);
  assert.match(other.stdout, /sigmoid\s+js\s+built-in\s+32×128\s+reference\s/);
});

// ---------------------------------------------------------------- custom AssemblyScript kernels (wasm)

const AS_EXAMPLE = 'examples/custom-kernel/dense_forward_wasm.ts';
const asExample = readFileSync(AS_EXAMPLE, 'utf8');
/** The AssemblyScript example with one piece replaced, written to the temp dir. */
function asVariant(name: string, from: string, to: string): string {
  assert.ok(asExample.includes(from), `example contains ${from}`);
  const file = join(dir, name);
  writeFileSync(file, asExample.replace(from, to));
  return file;
}
const NO_BIAS = ['const init = bias ? v128.load(bias) : f32x4.splat(0);', 'const init = f32x4.splat(0);'] as const;
const asKernel = await loadCustomKernel('dense_forward', AS_EXAMPLE) as AsKernel;

test('wasm: the example AssemblyScript dense_forward passes the check at awkward shapes and is timed', async () => {
  assert.is(asKernel.language, 'assemblyscript');
  const wasm = await WasmOpRunner.create(false);
  for (const shape of [[1, 1, 1], [3, 7, 5], [33, 129, 7], [7, 784, 128]] as [number, number, number][]) {
    const row = await benchCase(caseFromMKN('dense_forward', shape), 'wasm', AS_EXAMPLE, wasm.withKernel(asKernel), null, 'check only');
    assert.is(row.status, 'ok', `${shape}: ${row.message}`);
    assert.ok(row.maxRelErr! < 1e-5, `${shape}: ${row.maxRelErr}`);
  }
  const timed = await benchCase(caseFromMKN('dense_forward', [8, 64, 16]), 'wasm', AS_EXAMPLE, wasm.withKernel(asKernel), null, { repeats: 1, targetMs: 2 });
  assert.is(timed.status, 'ok');
  assert.ok(timed.time!.median > 0);
});

test('wasm: a wrong AssemblyScript kernel (forgets the bias) is WRONG with max error and first mismatching index, not timed', async () => {
  const file = asVariant('nobias.ts', ...NO_BIAS);
  const k = await loadCustomKernel('dense_forward', file) as AsKernel;
  const wasm = await WasmOpRunner.create(false);
  const c = caseFromMKN('dense_forward', [7, 33, 12]);
  const row = await benchCase(c, 'wasm', file, wasm.withKernel(k), null, { repeats: 1 });
  assert.is(row.status, 'wrong');
  assert.ok(row.maxRelErr! > 1e-3, String(row.maxRelErr));
  assert.is(row.firstMismatch?.output, 'y');
  // The first mismatch is the first output whose bias matters: recompute it from the same data.
  const data = makeData(c);
  assert.type(row.firstMismatch?.index, 'number');
  assert.ok(row.firstMismatch!.index >= 0 && row.firstMismatch!.index < data.expected.y!.length);
  assert.match(row.message!, new RegExp(`max relative error .* first mismatch at y\\[${row.firstMismatch!.index}\\]: got `));
  assert.is(row.time, null);
});

test('wasm: AssemblyScript compile errors give line:column in the user file; wrong export name and arity are named', async () => {
  const file = asVariant('typo.ts', 'const wv = v128.load(w);', 'const wv = v128.lod(w);');
  const text = readFileSync(file, 'utf8');
  const line = lineOf(text, 'v128.lod(w)');
  const col = text.split('\n')[line - 1]!.indexOf('lod') + 1;
  try {
    await loadCustomKernel('dense_forward', file);
    assert.unreachable('should be rejected');
  } catch (e) {
    assert.instance(e, KernelRejectedError);
    const m = (e as Error).message;
    assert.match(m, `${file}:${line}:${col}: error TS2339: Property 'lod' does not exist`);
    assert.match(m, `  ${line} |     const wv = v128.lod(w);`);
    assert.match(m, /\|\s+\^\^\^/);
    assert.not.match(m, /\n\s+at /);
  }
  const renamed = asVariant('renamed.ts', 'export function dense_forward(', 'export function denseForward(');
  await loadCustomKernel('dense_forward', renamed).then(() => assert.unreachable('renamed'), (e: Error) => {
    assert.match(e.message, `${renamed} exports no function 'dense_forward' (it exports 'denseForward')`);
  });
  const short = asVariant('short.ts', ', relu: i32, sparse: i32): void {', ', relu: i32): void {');
  await loadCustomKernel('dense_forward', short).then(() => assert.unreachable('short'), (e: Error) => {
    assert.match(e.message, 'dense_forward takes 8 parameters, the contract has 9');
  });
  // A CLI run shows the same message without a stack trace (exit 1).
  const r = await tessera('bench', '--backend', 'wasm', '--op', 'dense_forward', '--kernel', `dense_forward=${file}`, '--repeat', '1');
  assert.is(r.code, 1);
  assert.match(r.stderr, `${file}:${line}:${col}: error TS2339`);
  assert.not.match(r.stderr, /\n\s+at /);
});

test('wasm: a correct custom AssemblyScript kernel is used in training and matches the built-in; a wrong one is refused', async () => {
  const spec = await loadModelConfig('models/mnist.yaml');
  const graph = compileGraph(spec, 16);
  const count = 16 * 6;
  const images = Uint8Array.from({ length: count * graph.inputFeatures }, (_, i) => ((i * 2654435761) >>> 24) & (i % 5 ? 255 : 0));
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  const trainWith = async (custom: AsKernel | null) => {
    const b = await WasmBackend.create({ relaxed: false, customKernels: custom ? { dense_forward: toCustomWasmKernel(custom) } : {} });
    try {
      if (custom) assert.match(b.description, `custom dense_forward: ${custom.file}`);
      await b.prepare(graph, initParams(graph));
      await b.setDataset('train', { images, labels, count, features: graph.inputFeatures });
      await b.setOrder(Uint32Array.from({ length: count }, (_, i) => i));
      await b.trainSteps(0, 6, 0);
      await b.setDataset('test', { images, labels, count, features: graph.inputFeatures });
      return { params: await b.readParams(), metrics: await b.readMetrics(), test: await b.evaluate('test') };
    } finally {
      b.dispose();
    }
  };
  const relDiff = (a: Float32Array[], b: Float32Array[]) => Math.max(...a.map((p, i) => {
    let d = 0, s = 0;
    for (let j = 0; j < p.length; j++) { d = Math.max(d, Math.abs(p[j]! - b[i]![j]!)); s = Math.max(s, Math.abs(p[j]!)); }
    return d / s;
  }));
  const builtin = await trainWith(null);
  const mine = await trainWith(asKernel);
  assert.ok(Math.abs(builtin.metrics.lossSum - mine.metrics.lossSum) <= 1e-5 * builtin.metrics.lossSum, `loss ${builtin.metrics.lossSum} vs ${mine.metrics.lossSum}`);
  assert.ok(relDiff(builtin.params, mine.params) < 1e-5, `params: ${relDiff(builtin.params, mine.params)}`);
  assert.ok(Math.abs(builtin.test.loss - mine.test.loss) <= 1e-5 * builtin.test.loss);
  // The plan really calls the user's function: a kernel without the bias trains differently.
  const wrongFile = asVariant('nobias2.ts', ...NO_BIAS);
  const wrong = await loadCustomKernel('dense_forward', wrongFile) as AsKernel;
  assert.ok(relDiff(builtin.params, (await trainWith(wrong)).params) > 1e-4);
  // …and the check train runs first refuses it at the model's shapes.
  const check = await verifyCustomWasmKernels(graph, { dense_forward: wrong }, 'simd');
  assert.is(check.ok, false);
  assert.match(check.lines[0]!, /is WRONG at 16×784×128: max relative error .* first mismatch at y\[\d+\]/);
  const good = await verifyCustomWasmKernels(graph, { dense_forward: asKernel }, 'simd');
  assert.ok(good.ok, good.lines.join('\n'));
  assert.match(good.lines[0]!, /custom dense_forward: .* \(checked against the reference at 16×784×128, 16×128×10: max rel err/);
});

test('tessera bench --backend wasm --kernel FILE.ts: built-in and custom rows side by side, --json fields', async () => {
  const json = join(dir, 'bench-as.json');
  const r = await tessera('bench', '--backend', 'wasm', '--op', 'dense_forward', '--shape', '7,33,10', '--kernel', `dense_forward=${AS_EXAMPLE}`, '--repeat', '2', '--json', json);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /dense_forward\s+wasm\s+built-in\s+7×33×10\s+[\d.e-]+\s+[\d.]+ [µm]s/);
  assert.match(r.stdout, /dense_forward\s+wasm\s+\.\/examples\/custom-kernel\/dense_forward_wasm\.ts\s+7×33×10\s+[\d.e-]+\s+[\d.]+ [µm]s/);
  const report = JSON.parse(readFileSync(json, 'utf8'));
  const rows = report.results.filter((x: { op: string }) => x.op === 'dense_forward');
  assert.equal(rows.map((x: { kernel: string }) => x.kernel), ['built-in', `./${AS_EXAMPLE}`]);
  const row = rows[1];
  for (const key of ['op', 'backend', 'kernel', 'shape', 'dims', 'status', 'maxRelErr', 'tolerance', 'time', 'flops', 'bytes', 'unit', 'rate', 'peakFraction']) assert.ok(key in row, key);
  assert.is(row.backend, 'wasm');
  assert.is(row.status, 'ok');
  assert.equal(row.dims, [7, 33, 10]);
  assert.ok(row.maxRelErr < 1e-5);
  assert.is(row.time.repeats, 2);
  assert.ok(row.rate.median > 0 && row.peakFraction > 0);
  // A wrong one: WRONG row, a note with the first mismatch, exit 1.
  const bad = asVariant('nobias3.ts', ...NO_BIAS);
  const w = await tessera('bench', '--backend', 'wasm', '--op', 'dense_forward', '--shape', '7,33,10', '--kernel', `dense_forward=${bad}`, '--repeat', '1');
  assert.is(w.code, 1);
  assert.match(w.stdout, /nobias3\.ts\s+7×33×10\s+WRONG [\d.e+-]+/);
  assert.match(w.stdout, /WRONG: dense_forward on wasm \(.*nobias3\.ts, 7×33×10\): max relative error .* first mismatch at y\[\d+\]/);
});

test('tessera train with an AssemblyScript kernel in kernels: checks it and says it uses it on wasm; a wrong one exits 1', async () => {
  const yaml = readFileSync('examples/custom-kernel/mnist-custom-wasm.yaml', 'utf8');
  const good = join(dir, 'good-wasm.yaml');
  writeFileSync(good, yaml.replace('dense_forward: dense_forward_wasm.ts', `dense_forward: ${resolve(AS_EXAMPLE)}`));
  const weights = join(dir, 'good-wasm.safetensors');
  const r = await tessera('train', good, '--epochs', '1', '--limit', '320', '--save', weights);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /backend: wasm .*; custom dense_forward: .*dense_forward_wasm\.ts/);
  assert.match(r.stdout, /kernels: custom dense_forward: .*dense_forward_wasm\.ts \(checked against the reference at 32×784×128, 32×128×10: max rel err/);
  assert.match(r.stdout, /test\s+loss/);
  asVariant('nobias4.ts', ...NO_BIAS);
  const bad = join(dir, 'bad-wasm.yaml');
  writeFileSync(bad, yaml.replace('dense_forward: dense_forward_wasm.ts', 'dense_forward: nobias4.ts'));
  const w = await tessera('train', bad, '--epochs', '1', '--limit', '320');
  assert.is(w.code, 1);
  assert.match(w.stderr, /custom dense_forward kernel .*nobias4\.ts is WRONG at 32×784×128: max relative error .* first mismatch at y\[\d+\]/);
  assert.not.match(w.stderr, /\n\s+at /);
  // eval and predict run the model file's kernels too, checked the same way.
  const trainedLine = r.stdout.match(/test\s+loss .*/)![0];
  const ev = await tessera('eval', good, '--weights', weights);
  assert.is(ev.code, 0, ev.stderr);
  assert.ok(ev.stdout.includes(trainedLine), `eval printed\n${ev.stdout}\ntrain printed\n${trainedLine}`);
  const evBad = await tessera('eval', bad, '--weights', weights);
  assert.is(evBad.code, 1);
  assert.match(evBad.stderr, /nobias4\.ts is WRONG/);
  const prBad = await tessera('predict', bad, '--weights', weights, '--index', '0');
  assert.is(prBad.code, 1);
  assert.match(prBad.stderr, /nobias4\.ts is WRONG/);
  // On the js backend the AssemblyScript kernel does not apply: a note says so.
  const js = await tessera('train', good, '--epochs', '1', '--limit', '64', '--backend', 'js', '--quiet');
  assert.is(js.code, 0, js.stderr);
  assert.match(js.stderr, /are AssemblyScript and run on the wasm backend only; js uses its built-in kernels/);
});

// ---------------------------------------------------------------- any replaceable op (not only the dense ones)

// Plain scalar kernels for two ops whose contracts differ from the dense
// ones: relu_backward (elementwise, n = rows × features) and adam (f64
// hyperparameters, so the signature check must see wasm f64, not i32).
const RELU_BW_AS = `export function relu_backward(dy: usize, y: usize, dx: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(y + o) > 0 ? load<f32>(dy + o) : 0);
  }
}
`;
const ADAM_AS = `export function adam(p: usize, g: usize, m: usize, v: usize, n: i32, alpha: f64, beta1: f64, beta2: f64, epsilon: f64): void {
  const b1 = <f32>beta1, b2 = <f32>beta2, b1c = <f32>(1 - beta1), b2c = <f32>(1 - beta2), a = <f32>alpha, e = <f32>epsilon;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const mi = b1 * load<f32>(m + o) + b1c * gi;
    const vi = b2 * load<f32>(v + o) + b2c * gi * gi;
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    store<f32>(p + o, load<f32>(p + o) - a * mi / (Mathf.sqrt(vi) + e));
  }
}
`;
const RELU_BW_WGSL = `override FEATURES: u32;
const TILE_M: u32 = 1u;
const TILE_N: u32 = 64u;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let c = wg.x * 64u + lid.x;
  if (wg.y >= ctx.rows || c >= FEATURES) { return; }
  let i = wg.y * FEATURES + c;
  dx[i] = select(0.0, dy[i], y[i] > 0.0);
}
`;
const write = (name: string, text: string) => { const f = join(dir, name); writeFileSync(f, text); return f; };

test('wasm: AssemblyScript kernels for relu_backward and adam (f64 parameters) pass the check at the model\'s shapes and train like the built-ins; wrong ones are refused', async () => {
  const relu = await loadCustomKernel('relu_backward', write('relu_bw.ts', RELU_BW_AS)) as AsKernel;
  const adam = await loadCustomKernel('adam', write('adam.ts', ADAM_AS)) as AsKernel;
  const graph = compileGraph(await loadModelConfig('models/mnist.yaml'), 16);
  const good = await verifyCustomWasmKernels(graph, { relu_backward: relu, adam }, 'simd');
  assert.ok(good.ok, good.lines.join('\n'));
  assert.match(good.lines[0]!, /custom relu_backward: .*relu_bw\.ts \(checked against the reference at 16×128: max rel err/);
  assert.match(good.lines[1]!, /custom adam: .*adam\.ts \(checked against the reference at 100352, 128, 1280, 10: max rel err/);
  const count = 16 * 4;
  const images = Uint8Array.from({ length: count * graph.inputFeatures }, (_, i) => ((i * 2654435761) >>> 24) & (i % 5 ? 255 : 0));
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  const train = async (custom: Record<string, AsKernel>) => {
    const b = await WasmBackend.create({ relaxed: false, customKernels: Object.fromEntries(Object.entries(custom).map(([op, k]) => [op, toCustomWasmKernel(k)])) });
    try {
      await b.prepare(graph, initParams(graph));
      await b.setDataset('train', { images, labels, count, features: graph.inputFeatures });
      await b.setOrder(Uint32Array.from({ length: count }, (_, i) => i));
      await b.trainSteps(0, 4, 0);
      return b.readParams();
    } finally {
      b.dispose();
    }
  };
  const builtin = await train({});
  const mine = await train({ relu_backward: relu, adam });
  builtin.forEach((p, i) => assert.ok(relErr(mine[i]!, p) < 1e-4, `param ${i}: ${relErr(mine[i]!, p)}`));
  // The plan really calls them: an Adam with beta1 where beta2 belongs trains differently, and the check refuses it.
  const wrong = await loadCustomKernel('adam', write('adam-wrong.ts', ADAM_AS.replace('b2 * load<f32>(v + o) + b2c', 'b1 * load<f32>(v + o) + b1c'))) as AsKernel;
  const moved = await train({ adam: wrong });
  assert.ok(Math.max(...builtin.map((p, i) => relErr(moved[i]!, p))) > 1e-3, 'a wrong adam kernel changes the trained parameters');
  const check = await verifyCustomWasmKernels(graph, { adam: wrong }, 'simd');
  assert.is(check.ok, false);
  assert.match(check.lines[0]!, /custom adam kernel .*adam-wrong\.ts is WRONG at 100352: max relative error .* first mismatch at /);
  // A signature with f32 where the contract has f64 is named before anything runs.
  const f32Adam = write('adam-f32.ts', ADAM_AS.replace('alpha: f64', 'alpha: f32'));
  await loadCustomKernel('adam', f32Adam).then(() => assert.unreachable('f32 alpha'), (e: Error) => {
    assert.match(e.message, `adam's parameter or result types do not match the contract: export function adam(p: usize, g: usize, m: usize, v: usize, n: i32, alpha: f64`);
  });
  await loadCustomKernel('conv3d', write('conv3d.ts', RELU_BW_AS)).then(() => assert.unreachable('conv3d'), (e: Error) => {
    assert.match(e.message, /custom AssemblyScript kernels can replace gather, (.*, )?dense_forward, .*; 'conv3d' is not one of them/);
  });
});

// ---------------------------------------------------------------- WebGPU

const gpu = await requestNodeGpu();
const ci = process.env.CI === 'true' || process.env.CI === '1';
if (!gpu.gpu) {
  console.error(`\n${'!'.repeat(78)}\n!! bench: NO WEBGPU ADAPTER — ${gpu.reason}\n${'!'.repeat(78)}\n`);
  if (ci) test('a WebGPU adapter is available (required under CI=true)', () => { throw new Error(`no WebGPU adapter: ${gpu.reason}`); });
  else test.skip('custom WGSL kernels (no adapter; CI=true makes this a failure)', () => {});
} else {
  // An adapter makes one device: ask for a fresh one per device.
  const freshAdapter = async () => (await gpu.gpu.requestAdapter({ featureLevel: 'compatibility' }))!;
  let runner: WebGpuOpRunner;
  beforeOrFail(test, 'bench setup (the WebGPU op runner)', async () => { runner = await WebGpuOpRunner.create(gpu.adapter, 'test'); });
  test.after(() => runner?.dispose());

  test('webgpu: built-in kernels pass the check; the example custom dense_forward passes at awkward shapes', async () => {
    const k = parseWgslKernel('dense_forward', EXAMPLE, example);
    for (const shape of [[1, 1, 1], [3, 7, 5], [33, 129, 7], [7, 784, 128]] as [number, number, number][]) {
      const c = caseFromMKN('dense_forward', shape);
      const builtin = await benchCase(c, 'webgpu', 'built-in', runner, null, 'check only');
      assert.is(builtin.status, 'ok', builtin.message);
      const mine = await benchCase(c, 'webgpu', EXAMPLE, runner.withKernel(k), null, 'check only');
      assert.is(mine.status, 'ok', `${c.dims}: ${mine.message}`);
      assert.ok(mine.maxRelErr! < 1e-5);
    }
    for (const op of benchOps()) {
      const row = await benchCase(caseFromMKN(op, [7, 33, 10]), 'webgpu', 'built-in', runner, null, 'check only');
      assert.is(row.status, 'ok', `${op}: ${row.message}`);
    }
  });

  test('webgpu: a custom relu_backward (not a dense op) passes the check at awkward shapes and the model\'s; a wrong one is WRONG', async () => {
    const k = parseWgslKernel('relu_backward', 'relu_bw.wgsl', RELU_BW_WGSL);
    for (const shape of AWKWARD) {
      const row = await benchCase(caseFromMKN('relu_backward', shape), 'webgpu', 'relu_bw.wgsl', runner.withKernel(k), null, 'check only');
      assert.is(row.status, 'ok', `${shape}: ${row.message}`);
    }
    const graph = compileGraph(await loadModelConfig('models/mnist.yaml'), 16);
    const device = await (await freshAdapter()).requestDevice();
    try {
      const good = await verifyCustomKernels(device, graph, { relu_backward: k });
      assert.ok(good.ok, good.lines.join('\n'));
      assert.match(good.lines[0]!, /custom relu_backward: relu_bw\.wgsl \(checked against the reference at 16×128/);
    } finally {
      device.destroy();
    }
    const wrong = parseWgslKernel('relu_backward', 'wrong.wgsl', RELU_BW_WGSL.replace('y[i] > 0.0', 'y[i] >= 0.5'));
    const row = await benchCase(caseFromMKN('relu_backward', [7, 33, 10]), 'webgpu', 'wrong.wgsl', runner.withKernel(wrong), null, { repeats: 1 });
    assert.is(row.status, 'wrong');
    assert.is(row.firstMismatch?.output, 'dx');
  });

  test('webgpu: a wrong custom kernel is WRONG with its max error and first mismatching index, and is not timed', async () => {
    const file = variant('wrong.wgsl', 'acc[2u * i] += xv * wv[0];', 'acc[2u * i] += xv * wv[1];');
    const k = parseWgslKernel('dense_forward', file, readFileSync(file, 'utf8'));
    const row = await benchCase(caseFromMKN('dense_forward', [7, 33, 10]), 'webgpu', file, runner.withKernel(k), null, { repeats: 1 });
    assert.is(row.status, 'wrong');
    assert.ok(row.maxRelErr! > 1e-3);
    assert.is(row.firstMismatch?.output, 'y');
    assert.is(row.firstMismatch?.index, 0);
    assert.match(row.message!, /max relative error .* first mismatch at y\[0\]/);
    assert.is(row.time, null);
  });

  test('webgpu: a WGSL error is reported at its line and column in the user file', async () => {
    const file = variant('typo.wgsl', 'let c0 = gid.x * 8u;', 'let c0 = gidx.x * 8u;');
    const text = readFileSync(file, 'utf8');
    const line = lineOf(text, 'gidx.x');
    const col = text.split('\n')[line - 1]!.indexOf('gidx') + 1;
    const k = parseWgslKernel('dense_forward', file, text);
    const row = await benchCase(caseFromMKN('dense_forward', [3, 7, 5]), 'webgpu', file, runner.withKernel(k), null, 'check only');
    assert.is(row.status, 'error');
    assert.match(row.message!, `${file}:${line}:${col}: error:`);
    assert.match(row.message!, /gidx/);
    assert.match(row.message!, /\^/);
    assert.not.match(row.message!, /\n\s+at /);
  });

  test('webgpu: a correct custom kernel is used in training and matches the built-in; a wrong one is refused', async () => {
    const spec = await loadModelConfig('models/mnist.yaml');
    const graph = compileGraph(spec, 16);
    const count = 16 * 6;
    const images = Uint8Array.from({ length: count * graph.inputFeatures }, (_, i) => ((i * 2654435761) >>> 24) & (i % 5 ? 255 : 0));
    const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
    const k = parseWgslKernel('dense_forward', EXAMPLE, example);
    const trainWith = async (custom: WgslKernel | null) => {
      const b = await WebGpuBackend.create(gpu.gpu!, { adapter: await freshAdapter(), customKernels: custom ? { dense_forward: toCustomKernel(custom) } : {} });
      try {
        if (custom) assert.match(b.description, `custom dense_forward: ${custom.file}`);
        await b.prepare(graph, initParams(graph));
        await b.setDataset('train', { images, labels, count, features: graph.inputFeatures });
        await b.setOrder(Uint32Array.from({ length: count }, (_, i) => i));
        await b.trainSteps(0, 6, 0);
        return { params: await b.readParams(), metrics: await b.readMetrics() };
      } finally {
        b.dispose();
      }
    };
    const builtin = await trainWith(null);
    const mine = await trainWith(k);
    assert.ok(Math.abs(builtin.metrics.lossSum - mine.metrics.lossSum) <= 1e-4 * builtin.metrics.lossSum, `loss ${builtin.metrics.lossSum} vs ${mine.metrics.lossSum}`);
    builtin.params.forEach((p, i) => assert.ok(relErr(mine.params[i]!, p) < 1e-4, `param ${i}: ${relErr(mine.params[i]!, p)}`));
    // The backend really runs the user's kernel: one that forgets the bias (which is
    // non-zero from the second step on) trains differently, by far more than rounding.
    const noBiasFile = variant('nobias-train.wgsl', 'if (HAS_BIAS) {', 'if (false) {');
    const noBias = await trainWith(parseWgslKernel('dense_forward', noBiasFile, readFileSync(noBiasFile, 'utf8')));
    const moved = Math.max(...builtin.params.map((p, i) => relErr(noBias.params[i]!, p)));
    assert.ok(moved > 1e-3, `a kernel without the bias changed the trained parameters by only ${moved}`);
    // The check train runs first: the wrong kernel is refused at the model's shapes.
    const wrongFile = variant('wrong2.wgsl', 'acc[2u * i] += xv * wv[0];', 'acc[2u * i] += xv * wv[1];');
    const device = await (await freshAdapter()).requestDevice();
    try {
      const check = await verifyCustomKernels(device, graph, { dense_forward: parseWgslKernel('dense_forward', wrongFile, readFileSync(wrongFile, 'utf8')) });
      assert.is(check.ok, false);
      assert.match(check.lines[0]!, /is WRONG at 16×784×128: max relative error/);
    } finally {
      device.destroy();
    }
  });

  test('tessera train with kernels: in the YAML says it uses the custom kernel; a wrong one exits 1 without a stack trace', async () => {
    const yaml = readFileSync('examples/custom-kernel/mnist-custom.yaml', 'utf8');
    const good = join(dir, 'good.yaml');
    writeFileSync(good, yaml.replace('dense_forward: dense_forward_4x8.wgsl', `dense_forward: ${resolve(EXAMPLE)}`));
    const r = await tessera('train', good, '--epochs', '1', '--limit', '320');
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /kernels: custom dense_forward: .*dense_forward_4x8\.wgsl \(checked against the reference at 32×784×128, 32×128×10/);
    assert.match(r.stdout, /test\s+loss/);
    variant('bad.wgsl', 'acc[2u * i] += xv * wv[0];', 'acc[2u * i] += xv * wv[1];');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, yaml.replace('dense_forward: dense_forward_4x8.wgsl', 'dense_forward: bad.wgsl'));
    const w = await tessera('train', bad, '--epochs', '1', '--limit', '320');
    assert.is(w.code, 1);
    assert.match(w.stderr, /custom dense_forward kernel .*bad\.wgsl is WRONG at 32×784×128: max relative error .* first mismatch at y\[0\]/);
    assert.not.match(w.stderr, /\n\s+at /);
  });
}

test.run();
