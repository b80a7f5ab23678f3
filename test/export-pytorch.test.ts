// `tessera export --pytorch DIR` checked by PyTorch (Debian's python3-torch,
// which .ci/run installs; without it this suite skips, except under
// CI=true, where it fails). For the MLP and the convnet, trained for one
// short epoch by `tessera train`, test/support/torch_check.py loads DIR as a
// user would (model.py, load_tessera_weights, eval()):
// - its logits on 1,000 MNIST test images match Tessera's (the js
//   reference) within 1e-4 relative;
// - one SGD step (lr 0.1, no momentum) in PyTorch and in Tessera (its sgd
//   optimizer on the js backend) from the same weights and batch of 32,
//   dropout off, gives the same weights within 1e-5 relative, and the step
//   itself (W' − W) within 1e-3 of its size, so the gradients agree and not
//   only the weights they are added to.
// The same for small models with every layer type and activation (random
// weights, 100 images; BatchNorm normalises with the batch's statistics in
// the step, in both). models/char-rhymes.yaml (a causal transformer block)
// on its text fixture: logits per position. Also: the generated files
// (names, layouts, README's DDP line).

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadMnist } from '../src/data/node.js';
import { loadWeights, saveWeights } from '../src/data/weights-node.js';
import { hwioToOihw, pythonName } from '../src/export/index.js';
import { JsBackend } from '../src/runtime/backends/js.js';
import { compileGraph, type Graph } from '../src/runtime/graph.js';
import { decodeSafetensorsFile } from '../src/runtime/safetensors.js';
import type { ModelSpec } from '../src/config/types.js';
import { loadModelWithData } from '../src/cli/model-file.js';
import { tessera } from './support/cli.js';
import { relErr, updateErr } from './support/compare.js';
import { LAYER_MODELS, specOf, tesseraLogits, trainSmall, withRandomWeights } from './support/export.js';

const CI = process.env.CI === 'true' || process.env.CI === '1';
const PYTHON = '/usr/bin/python3';
const torchProbe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
const haveTorch = torchProbe.status === 0;
if (!haveTorch) {
  const why = `PyTorch is not importable by ${PYTHON} (${(torchProbe.stderr || String(torchProbe.error)).trim().split('\n').pop()}); install python3-torch`;
  if (CI) throw new Error(`CI=true: ${why}`);
  console.warn(`\n!! export-pytorch: SKIPPED: ${why}\n`);
}

const dir = mkdtempSync(join(tmpdir(), 'tessera-torch-'));
const { test: testSet, train } = await loadMnist({ name: 'mnist' }, process.cwd());
const N = 1000, B = 32, LR = 0.1;
const MODELS = [['models/mnist.yaml', 2000], ['models/mnist-cnn.yaml', 1500]] as const;

/** The weights after one step of Tessera's own SGD (lr 0.1, no momentum) on one batch, dropout off (rate 0), graph.params order. */
async function tesseraSgdStep(spec: ModelSpec, params: Float32Array[]): Promise<{ graph: Graph; after: Float32Array[] }> {
  const noDropout = {
    ...spec, optimizer: { type: 'sgd', learning_rate: LR, momentum: 0, nesterov: false },
    layers: spec.layers.map((l) => (l.type === 'dropout' ? { ...l, rate: 0 } : l.type === 'multi_head_attention' ? { ...l, dropout: 0 } : l)),
  } as unknown as ModelSpec;
  const graph = compileGraph(noDropout, B);
  const be = new JsBackend();
  await be.prepare(graph, params);
  await be.setDataset('train', { images: train.images.subarray(0, B * graph.inputFeatures), labels: train.labels.subarray(0, B), count: B, features: graph.inputFeatures });
  await be.setOrder(Uint32Array.from({ length: B }, (_, i) => i));
  await be.trainSteps(0, 1, 0);
  const after = await be.readParams();
  be.dispose();
  return { graph, after };
}

/** A Tessera parameter in PyTorch's name and layout. */
function asTorch(name: string, shape: number[], data: Float32Array, layerType = ''): [string, Float32Array] {
  // multi_head_attention's weights are <layer>/<projection>/kernel: Linear layers inside its module.
  const [layer, ...rest] = name.split('/') as [string, ...string[]];
  const what = rest.pop()!;
  const renamed: Record<string, string> = { kernel: 'weight', gamma: 'weight', beta: 'bias', ...(layerType === 'embedding' ? { embeddings: 'weight' } : {}) };
  const key = [pythonName(layer), ...rest, renamed[what] ?? what].join('.');
  if (what !== 'kernel') return [key, data];
  if (shape.length === 4) return [key, hwioToOihw(data, shape[0]!, shape[1]!, shape[2]!, shape[3]!)];
  // Dense [k, n]; attention's query/key/value [F, H, d] are [F, H·d], its output [H, dv, F] is [H·dv, F].
  const n = shape.at(-1)! * (rest[0] === 'attention_output' ? 1 : shape.length === 3 ? shape[1]! : 1);
  const k = data.length / n;
  const t = new Float32Array(data.length);
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) t[j * k + i] = data[i * n + j]!;
  return [key, t];
}

interface TorchResult { logits: number[]; loss: number; grads: Record<string, number[]>; updated: Record<string, number[]> }

test('PyTorch export: logits, and one SGD step, agree with Tessera (MLP, convnet, every layer type)', async () => {
  if (!haveTorch) return;
  const imagesFile = join(dir, 'test-images.bin'), batchFile = join(dir, 'batch.bin');
  writeFileSync(imagesFile, testSet.images.subarray(0, N * 784));
  writeFileSync(batchFile, train.images.subarray(0, B * 784));
  const cases = [];
  for (const [model, limit] of MODELS) {
    const weights = await trainSmall(model, dir, limit);
    const out = join(dir, model.replace(/\W+/g, '_'));
    const r = await tessera('export', model, '--weights', weights, '--pytorch', out);
    assert.is(r.code, 0, r.stderr);
    const spec = specOf(model);
    const { params } = await loadWeights(weights, compileGraph(spec));
    cases.push({ model, spec, params, dir: out, count: N });
  }
  // Every layer type and activation, with random weights (and BatchNorm in train mode for the step).
  for (const [k, yaml] of Object.values(LAYER_MODELS).entries()) {
    const model = join(dir, `layers-${k}.yaml`), weights = join(dir, `layers-${k}.safetensors`), out = join(dir, `layers-${k}`);
    writeFileSync(model, yaml);
    const spec = specOf(model, yaml);
    const graph = compileGraph(spec);
    const params = withRandomWeights(graph);
    await saveWeights(weights, graph, params);
    const r = await tessera('export', model, '--weights', weights, '--pytorch', out);
    assert.is(r.code, 0, r.stderr);
    cases.push({ model: `layers-${k}`, spec, params, dir: out, count: 100 });
  }
  const config = {
    cases: cases.map((c) => ({
      dir: c.dir, images: imagesFile, count: c.count, shape: c.spec.input_shape, lr: LR,
      batch_images: batchFile, batch_count: B, batch_labels: Array.from(train.labels.subarray(0, B)),
    })),
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  execFileSync(PYTHON, ['test/support/torch_check.py', join(dir, 'config.json'), join(dir, 'torch.json')], { stdio: ['ignore', 'inherit', 'inherit'] });
  const results = JSON.parse(readFileSync(join(dir, 'torch.json'), 'utf8')) as TorchResult[];

  for (const [i, c] of cases.entries()) {
    const torch = results[i]!;
    const logits = await tesseraLogits(c.spec, c.params, testSet.images, c.count);
    const err = relErr(torch.logits, logits);
    assert.ok(err < 1e-4, `${c.model} logits: relative error ${err}`);

    const { graph, after } = await tesseraSgdStep(c.spec, c.params);
    let worstW = 0, worstStep = 0;
    for (const [j, p] of graph.params.entries()) {
      if (!p.trainable) continue; // moving statistics: buffers in PyTorch, not SGD's business
      const before = c.params[j]!, want = after[j]!;
      const type = graph.layers.find((l) => l.name === p.name.split('/')[0])?.type;
      const [key, wantT] = asTorch(p.name, p.shape, want, type);
      const [, beforeT] = asTorch(p.name, p.shape, before, type);
      const got = torch.updated[key];
      assert.ok(got, `${c.model}: PyTorch has no parameter ${key}`);
      const wErr = relErr(got!, wantT);
      assert.ok(wErr < 1e-5, `${c.model} ${key} after one SGD step: relative error ${wErr}`);
      worstW = Math.max(worstW, wErr);
      // A bias just before a batch normalization has a zero gradient (the mean is taken out): only rounding noise to compare.
      const step = Math.max(...wantT.map((w, k) => Math.abs(w - beforeT[k]!)));
      if (step <= 1e-6 * Math.max(...beforeT.map(Math.abs))) continue;
      const stepErr = updateErr(got!, beforeT, wantT);
      assert.ok(stepErr < 1e-3, `${c.model} ${key}: the SGD step differs by ${stepErr} of its size`);
      worstStep = Math.max(worstStep, stepErr);
    }
    console.log(`  ${c.model}: logits ${err.toExponential(1)}, weights after SGD ${worstW.toExponential(1)}, the step itself ${worstStep.toExponential(1)} (relative)`);
  }
});

test('PyTorch export: models/char-rhymes.yaml (causal multi_head_attention, residuals) on its text fixture gives Tessera\'s logits per position', async () => {
  if (!haveTorch) return;
  const { spec, data } = await loadModelWithData('models/char-rhymes.yaml');
  const graph = compileGraph(spec);
  const params = withRandomWeights(graph);
  const weights = join(dir, 'char-rhymes.safetensors'), out = join(dir, 'char-rhymes');
  await saveWeights(weights, graph, params);
  const r = await tessera('export', 'models/char-rhymes.yaml', '--weights', weights, '--pytorch', out);
  assert.is(r.code, 0, r.stderr);
  const count = 9, T = spec.input_shape[0]!;
  // Token ids (< 256) as the bytes torch_check.py reads.
  const ids = new Float32Array(data.test.images.buffer, data.test.images.byteOffset, count * T);
  const idsFile = join(dir, 'char-ids.bin');
  writeFileSync(idsFile, Uint8Array.from(ids));
  writeFileSync(join(dir, 'text-config.json'), JSON.stringify({ cases: [{ dir: out, images: idsFile, count, shape: [T] }] }));
  execFileSync(PYTHON, ['test/support/torch_check.py', join(dir, 'text-config.json'), join(dir, 'text-torch.json')], { stdio: ['ignore', 'inherit', 'inherit'] });
  const [torch] = JSON.parse(readFileSync(join(dir, 'text-torch.json'), 'utf8')) as TorchResult[];
  const want = await tesseraLogits(spec, params, data.test.images, count);
  assert.is(torch!.logits.length, count * T * graph.classes);
  const err = relErr(torch!.logits, want);
  assert.ok(err < 1e-4, `logits: relative error ${err}`);
  assert.match(readFileSync(join(out, 'model.py'), 'utf8'), 'self.attn = MultiHeadAttention(16, 2, 8, 8, causal=True, bias=True, dropout=0.0)');
});

test('PyTorch export: the files (state-dict names and layouts, model.py, README with a DDP launch line)', async () => {
  const weights = await trainSmall('models/mnist-cnn.yaml', dir, 256);
  const out = join(dir, 'cnn-files');
  const r = await tessera('export', 'models/mnist-cnn.yaml', '--weights', weights, '--pytorch', out);
  assert.is(r.code, 0, r.stderr);
  const { tensors, metadata } = decodeSafetensorsFile(new Uint8Array(readFileSync(join(out, 'state_dict.safetensors'))), 'state_dict');
  assert.equal([...tensors].map(([n, t]) => [n, t.shape]), [
    ['conv2d_1.weight', [32, 1, 3, 3]], ['conv2d_1.bias', [32]], ['conv2d_2.weight', [64, 32, 3, 3]], ['conv2d_2.bias', [64]],
    ['dense_1.weight', [10, 1600]], ['dense_1.bias', [10]],
  ]);
  assert.is(metadata.format, 'pt');
  const { params } = await loadWeights(weights, compileGraph(specOf('models/mnist-cnn.yaml')));
  assert.equal(tensors.get('dense_1.weight')!.data[1], params[4]![10], 'Linear weight [out, in] is the Keras kernel [in, out] transposed');
  assert.equal(tensors.get('conv2d_2.weight')!.data[(5 * 32 + 7) * 9 + 1 * 3 + 2], params[2]![((1 * 3 + 2) * 32 + 7) * 64 + 5], 'OIHW from HWIO');
  const py = readFileSync(join(out, 'model.py'), 'utf8');
  assert.match(py, 'self.conv2d_1 = nn.Conv2d(1, 32, (3, 3), stride=(1, 1), dilation=(1, 1), bias=True)');
  assert.match(py, 'x = x.permute(0, 3, 1, 2)');
  assert.match(py, 'self.dropout_1 = nn.Dropout(0.5)');
  const readme = readFileSync(join(out, 'README.md'), 'utf8');
  assert.match(readme, 'torchrun --standalone --nproc_per_node=4 train.py');
  assert.match(readme, 'DistributedDataParallel');
});

test.run();
