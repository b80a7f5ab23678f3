// `tessera export --onnx` checked by ONNX Runtime (onnxruntime-node):
// - the MLP and the convnet, trained for one short epoch by `tessera train`:
//   on 1,000 MNIST test images the ONNX logits match Tessera's (the js
//   reference) within 1e-4 relative, the --softmax model's probabilities
//   match `tessera predict --json` (wasm) and the classes are identical;
//   on the whole test set the ONNX model's accuracy is what `tessera eval`
//   prints;
// - every layer type and activation (strides, dilation, same padding, both
//   global poolings, reshape, softmax over a 3-D tensor, batch normalization
//   on [C], [T, C] and [H, W, C], dense on a sequence, named inputs with
//   every merge layer on conv and dense branches, multi_head_attention causal
//   and not, with and without biases), with random weights, at
//   batch sizes 1 and 5: the batch axis is dynamic;
// - models/char-rhymes.yaml (a causal transformer block) on its text
//   fixture, logits per position;
// - the file: opset 17, input/output names and shapes, metadata;
// - every layer type has an exporter; a layer without one (a table that
//   lacks it) is refused at its line in the YAML.

import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto, { type onnx as OnnxTypes } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadMnist } from '../src/data/node.js';
import { loadWeights, readWeightsDataMetadata, saveWeights } from '../src/data/weights-node.js';
import { applyNormalize } from '../src/data/preprocess.js';
import { loadModelWithData } from '../src/cli/model-file.js';
import { EXPORTERS, encodeOnnx, exportSteps, UnsupportedLayer, unsupportedLayerError } from '../src/export/index.js';
import { compileGraph } from '../src/runtime/graph.js';
import { initParams } from '../src/runtime/params.js';
import { tessera } from './support/cli.js';
import { relErr } from './support/compare.js';
import { argmaxRows, HEADER, LAYER_MODELS, specOf, tesseraLogits, trainSmall, withRandomWeights } from './support/export.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-onnx-'));
const { test: testSet } = await loadMnist({ name: 'mnist' }, process.cwd());
const N = 1000;

async function runOnnx(bytes: Uint8Array | string, pixels: Uint8Array, count: number, shape: number[]): Promise<Float32Array> {
  const session = typeof bytes === 'string' ? await ort.InferenceSession.create(bytes) : await ort.InferenceSession.create(bytes);
  const input = new ort.Tensor('float32', Float32Array.from(pixels.subarray(0, count * shape.reduce((a, b) => a * b, 1))), [count, ...shape]);
  const out = await session.run({ input });
  return out[session.outputNames[0]!]!.data as Float32Array;
}

for (const [model, limit] of [['models/mnist.yaml', 4000], ['models/mnist-cnn.yaml', 3000]] as const) {
  test(`${model}: ONNX Runtime gives Tessera's logits, probabilities, classes and test accuracy`, async () => {
    const weights = await trainSmall(model, dir, limit);
    const spec = specOf(model);
    const { params } = await loadWeights(weights, compileGraph(spec));
    const onnxFile = join(dir, 'model.onnx'), softmaxFile = join(dir, 'softmax.onnx');
    for (const args of [['--onnx', onnxFile], ['--onnx', softmaxFile, '--softmax']]) {
      const r = await tessera('export', model, '--weights', weights, ...args);
      assert.is(r.code, 0, r.stderr);
      assert.match(r.stdout, args[1]!);
    }
    const shape = spec.input_shape;
    const logits = await runOnnx(onnxFile, testSet.images, N, shape);
    const want = await tesseraLogits(spec, params, testSet.images, N);
    const err = relErr(logits, want);
    assert.ok(err < 1e-4, `logits: relative error ${err}`);

    const p = await tessera('predict', model, '--weights', weights, '--index', `0-${N - 1}`, '--json', '--backend', 'wasm');
    assert.is(p.code, 0, p.stderr);
    const predictions = (JSON.parse(p.stdout) as { predictions: { predicted: number; probabilities: number[] }[] }).predictions;
    const probs = await runOnnx(softmaxFile, testSet.images, N, shape);
    const pErr = relErr(probs, predictions.flatMap((q) => q.probabilities));
    assert.ok(pErr < 1e-4, `probabilities: relative error ${pErr}`);
    assert.equal(argmaxRows(probs, 10), predictions.map((q) => q.predicted));
    assert.equal(argmaxRows(logits, 10), predictions.map((q) => q.predicted));

    // The whole test set: the accuracy `tessera eval` prints.
    const e = await tessera('eval', model, '--weights', weights, '--backend', 'wasm');
    assert.is(e.code, 0, e.stderr);
    const printed = /accuracy ([\d.]+)%/.exec(e.stdout)?.[1];
    const all = argmaxRows(await runOnnx(onnxFile, testSet.images, testSet.count, shape), 10);
    const correct = all.filter((c, i) => c === testSet.labels[i]).length;
    assert.is(((100 * correct) / testSet.count).toFixed(2), printed, e.stdout);
    // Trained weights, not a guess (one short epoch: about 90% for the MLP, 70% for the convnet).
    assert.ok(correct / testSet.count > 0.5, `accuracy ${correct / testSet.count} after a short epoch`);
  });
}

for (const [what, yaml] of Object.entries(LAYER_MODELS)) {
  test(`every layer and activation: ${what}`, async () => {
    const spec = specOf('every-layer.yaml', yaml);
    const g = compileGraph(spec);
    const params = withRandomWeights(g);
    const bytes = encodeOnnx(exportSteps(spec, g, params));
    for (const count of [1, 5]) {
      const got = await runOnnx(bytes, testSet.images, count, spec.input_shape);
      const want = await tesseraLogits(spec, params, testSet.images, count);
      assert.ok(relErr(got, want) < 1e-4, `batch ${count}: relative error ${relErr(got, want)}`);
    }
  });
}

test('models/char-rhymes.yaml on its text fixture: embedding, position embedding, causal multi_head_attention, residuals; logits per position', async () => {
  const { spec, data } = await loadModelWithData('models/char-rhymes.yaml');
  const g = compileGraph(spec);
  const params = withRandomWeights(g);
  const bytes = encodeOnnx(exportSteps(spec, g, params));
  const count = 7, T = spec.input_shape[0]!;
  const ids = new Float32Array(data.test.images.buffer, data.test.images.byteOffset, count * T);
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(ids), [count, T]) });
  const got = out.logits!.data as Float32Array;
  assert.equal(out.logits!.dims, [count, T, g.classes]);
  const want = await tesseraLogits(spec, params, data.test.images, count);
  assert.ok(relErr(got, want) < 1e-4, `relative error ${relErr(got, want)}`);
});

test('the file: opset 17, a dynamic batch axis, the input and output, metadata', () => {
  const spec = specOf('models/mnist.yaml');
  const g = compileGraph(spec);
  const steps = exportSteps(spec, g, initParams(g));
  const { onnx } = onnxProto;
  const m = onnx.ModelProto.decode(encodeOnnx(steps, { softmax: true, producerVersion: '9.9.9' }));
  assert.equal(m.opsetImport.map((o) => [o.domain, Number(o.version)]), [['', 17]]);
  const graph = m.graph as OnnxTypes.GraphProto;
  const dims = (v: OnnxTypes.IValueInfoProto) => v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
  assert.equal(graph.input.map((i) => [i.name, dims(i)]), [['input', ['batch', 28, 28]]]);
  assert.equal(graph.output.map((o) => [o.name, dims(o)]), [['probabilities', ['batch', 10]]]);
  const meta = Object.fromEntries(m.metadataProps.map((p) => [p.key, p.value]));
  assert.is(meta.model_name, 'mnist-mlp');
  assert.equal(JSON.parse(meta.class_names!), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  assert.match(meta.input_normalization!, '1/255');
  assert.is(m.producerName, 'tessera');
  assert.is(m.producerVersion, '9.9.9');
  // Normalisation first, dropout gone, Gemm for dense.
  const ops = graph.node.map((n) => n.opType);
  assert.equal(ops, ['Mul', 'Flatten', 'Gemm', 'Relu', 'Gemm', 'Softmax']);
  assert.equal(graph.initializer.map((t) => t.name).sort(), ['const/0.003921568859368563', 'dense_1/bias', 'dense_1/kernel', 'dense_2/bias', 'dense_2/kernel']);
});

test('every layer type has an export; the refusal of one without (a table lacking it) names its line in the YAML', async () => {
  const types = readdirSync('src/config/schema/layers').map((f) => f.replace(/\.json$/, '')).sort();
  assert.equal(Object.keys(EXPORTERS).sort(), types, 'every layer type of the schema has an exporter');
  const file = join(dir, 'attention.yaml');
  const text = `${HEADER}input_shape: [28, 28]
layers:
  - {type: dense, units: 8}
  - type: multi_head_attention
    num_heads: 2
    key_dim: 4
  - {type: flatten}
  - {type: dense, units: 10}
`;
  writeFileSync(file, text);
  const spec = specOf(file, text);
  const g = compileGraph(spec);
  // The CLI exports it (the refusal below is of a table without attention's exporter).
  await saveWeights(join(dir, 'attention.safetensors'), g, initParams(g));
  const r = await tessera('export', file, '--weights', join(dir, 'attention.safetensors'), '--onnx', join(dir, 'attention.onnx'));
  assert.is(r.code, 0, r.stderr);
  assert.ok(existsSync(join(dir, 'attention.onnx')));
  const refusedBy = (exporters: typeof EXPORTERS, s: typeof spec, graph: typeof g) => {
    try {
      exportSteps(s, graph, initParams(graph), { exporters });
    } catch (e) {
      return e;
    }
    return null;
  };
  const { multi_head_attention: _mha, ...withoutAttention } = EXPORTERS;
  const error = refusedBy(withoutAttention, spec, g);
  assert.ok(error instanceof UnsupportedLayer, String(error));
  const at = text.split('\n').findIndex((l) => l.includes('type: multi_head_attention')) + 1;
  const message = unsupportedLayerError(error, text, file).message;
  assert.match(message, `${file}:${at}:11: error: export: layer 'multi_head_attention_1' (multi_head_attention) has no ONNX or PyTorch form`);
  assert.match(message, '- type: multi_head_attention');
  // Without dropout's, the MLP is refused at its dropout.
  const mlp = readFileSync('models/mnist.yaml', 'utf8'), mlpSpec = specOf('models/mnist.yaml', mlp), mg = compileGraph(mlpSpec);
  const { dropout: _dropout, ...withoutDropout } = EXPORTERS;
  const dropoutError = refusedBy(withoutDropout, mlpSpec, mg);
  assert.ok(dropoutError instanceof UnsupportedLayer, String(dropoutError));
  const line = mlp.split('\n').findIndex((l) => l.includes('type: dropout')) + 1;
  assert.match(unsupportedLayerError(dropoutError, mlp, 'models/mnist.yaml').message, `models/mnist.yaml:${line}:11: error: export: layer 'dropout_1' (dropout)`);
});

test('a CSV model (models/iris.yaml): the ONNX model takes the raw CSV values, normalises them with the saved statistics, names the classes', async () => {
  const weights = join(dir, 'iris.safetensors');
  const t = await tessera('train', 'models/iris.yaml', '--epochs', '3', '--backend', 'js', '--save', weights, '--quiet');
  assert.is(t.code, 0, t.stderr);
  const onnxFile = join(dir, 'iris.onnx');
  const r = await tessera('export', 'models/iris.yaml', '--weights', weights, '--onnx', onnxFile);
  assert.is(r.code, 0, r.stderr);
  const saved = await readWeightsDataMetadata(weights);
  assert.ok(saved.normalize && saved.classNames, 'iris weights carry their normalisation and class names');
  const { spec } = await loadModelWithData('models/iris.yaml', { saved });
  const { params } = await loadWeights(weights, compileGraph(spec));
  // Every row of the CSV as it is in the file.
  const rows = readFileSync('models/data/iris.csv', 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').slice(0, 4).map(Number));
  const raw = Float32Array.from(rows.flat());
  const data = { images: new Uint8Array(raw.buffer), labels: new Uint8Array(rows.length), count: rows.length, features: 4, dtype: 'float32' as const };
  const want = await tesseraLogits(spec, params, applyNormalize(data, saved.normalize!, 'iris').images, rows.length);
  const session = await ort.InferenceSession.create(onnxFile);
  const out = await session.run({ input: new ort.Tensor('float32', raw, [rows.length, 4]) });
  const err = relErr(out.logits!.data as Float32Array, want);
  assert.ok(err < 1e-4, `logits: relative error ${err}`);
  const m = onnxProto.onnx.ModelProto.decode(readFileSync(onnxFile));
  const meta = Object.fromEntries(m.metadataProps.map((p) => [p.key, p.value]));
  assert.equal(JSON.parse(meta.class_names!), saved.classNames);
  assert.match(meta.input_normalization!, 'standardize');
});

test('tessera export: usage errors exit 2 and a bad weights file exits 1', async () => {
  const none = await tessera('export', 'models/mnist.yaml', '--weights', 'w.safetensors');
  assert.is(none.code, 2);
  assert.match(none.stderr, 'give --onnx <file>, --pytorch <dir>, or both');
  const soft = await tessera('export', 'models/mnist.yaml', '--weights', 'w.safetensors', '--softmax', '--pytorch', dir);
  assert.is(soft.code, 2);
  const missing = await tessera('export', 'models/mnist.yaml', '--weights', join(dir, 'nope.safetensors'), '--onnx', join(dir, 'x.onnx'));
  assert.is(missing.code, 1);
  assert.not.match(missing.stderr, 'internal error');
});

test.run();
