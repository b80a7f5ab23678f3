// Weights files: the safetensors byte layout, round trips, atomic saves, and
// an exact account of what does not match when a file is loaded for a model.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeSafetensors, decodeSafetensors, decodeSafetensorsFile, checkWeightsAgainstGraph } from '../src/runtime/safetensors.js';
import { saveWeights, loadWeights } from '../src/data/weights-node.js';
import { DataError } from '../src/data/errors.js';
import { compileGraph } from '../src/runtime/graph.js';
import { initParams } from '../src/runtime/params.js';
import type { ModelSpec, LayerSpec } from '../src/config/types.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-weights-'));

function spec(hidden: number, bias = true): ModelSpec {
  const layers: LayerSpec[] = [
    { type: 'flatten' },
    { type: 'dense', units: hidden, activation: 'relu', use_bias: bias },
    { type: 'dropout', rate: 0.2 },
    { type: 'dense', units: 10, activation: 'linear', use_bias: true },
  ];
  return {
    name: 'mlp', seed: 3, input_shape: [28, 28], layers,
    loss: { type: 'sparse_categorical_crossentropy', from_logits: true },
    optimizer: { type: 'adam', learning_rate: 1e-3, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 },
    metrics: ['accuracy'], training: { epochs: 1, batch_size: 4, shuffle: true },
    dataset: { name: 'mnist' }, backend: 'js',
  };
}

const headerOf = (bytes: Uint8Array) => {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { n, json: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) };
};

test('byte layout: u64 LE header length, JSON header, space padding to 8 bytes, then LE f32 data', () => {
  const a = new Float32Array([1, -2.5, 3.25, 1e-8, 7, 8]), b = new Float32Array([0.5]);
  const bytes = encodeSafetensors([{ name: 'a', shape: [2, 3], data: a }, { name: 'b', shape: [1], data: b }], { format: 'pt' });
  const { n, json } = headerOf(bytes);
  assert.is(n % 8, 0, 'header padded to a multiple of 8');
  assert.is((8 + n) % 8, 0, 'data 8-byte aligned');
  assert.is(bytes.length, 8 + n + 4 * 7);
  const raw = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.ok(/^\{.*\} *$/.test(raw), 'JSON then spaces only');
  assert.equal(json, {
    __metadata__: { format: 'pt' },
    a: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] },
    b: { dtype: 'F32', shape: [1], data_offsets: [24, 28] },
  });
  const view = new DataView(bytes.buffer, 8 + n);
  assert.is(view.getFloat32(4, true), -2.5);
  assert.is(view.getFloat32(24, true), 0.5);
  assert.equal([...bytes.subarray(0, 8)], [n & 0xff, (n >> 8) & 0xff, 0, 0, 0, 0, 0, 0]);
});

test('round trip: names, shapes, values (bit-exact) and metadata', () => {
  const t = [
    { name: 'dense_1/kernel', shape: [3, 2], data: new Float32Array([1, 2, 3, 4, 5, Math.fround(Math.PI)]) },
    { name: 'dense_1/bias', shape: [2], data: new Float32Array([-0, 1e-30]) },
    { name: 'empty', shape: [0, 4], data: new Float32Array(0) },
  ];
  const { tensors, metadata } = decodeSafetensorsFile(encodeSafetensors(t, { epochs: '5', note: 'ünïcode' }), 'x');
  assert.equal(metadata, { epochs: '5', note: 'ünïcode' });
  assert.equal([...tensors.keys()], ['dense_1/kernel', 'dense_1/bias', 'empty']);
  for (const { name, shape, data } of t) {
    const d = tensors.get(name)!;
    assert.is(d.dtype, 'F32');
    assert.equal(d.shape, shape);
    assert.equal(new Uint32Array(d.data.buffer, d.data.byteOffset, d.data.length), new Uint32Array(data.buffer), name);
  }
  // no metadata: no __metadata__ key; a header length that needs padding from every remainder
  for (let len = 1; len <= 9; len++) {
    const bytes = encodeSafetensors([{ name: 'x'.repeat(len), shape: [1], data: new Float32Array([len]) }]);
    assert.is(headerOf(bytes).n % 8, 0);
    assert.not.ok('__metadata__' in headerOf(bytes).json);
    assert.is(decodeSafetensors(bytes, 'x').get('x'.repeat(len))!.data[0], len);
  }
});

test('decoding a Node Buffer that is a view into a larger buffer (readFileSync of a small file)', () => {
  const bytes = encodeSafetensors([{ name: 'w', shape: [3], data: new Float32Array([1.5, -2, 3.25]) }]);
  const pool = Buffer.alloc(bytes.length + 24);
  pool.set(bytes, 16);
  const view = pool.subarray(16, 16 + bytes.length);
  assert.equal(Array.from(decodeSafetensors(view, 'buf').get('w')!.data), [1.5, -2, 3.25]);
});

test('decoding another writer\'s unpadded, reordered file', () => {
  const header = JSON.stringify({ b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] }, a: { dtype: 'F32', shape: [], data_offsets: [0, 4] } });
  const bytes = new Uint8Array(8 + header.length + 8);
  new DataView(bytes.buffer).setUint32(0, header.length, true);
  bytes.set(new TextEncoder().encode(header), 8);
  new DataView(bytes.buffer).setFloat32(8 + header.length, 1.5, true);
  new DataView(bytes.buffer).setFloat32(12 + header.length, -3, true);
  const t = decodeSafetensors(bytes, 'other');
  assert.is(t.get('a')!.data[0], 1.5);
  assert.equal(t.get('a')!.shape, []);
  assert.is(t.get('b')!.data[0], -3);
});

function rawFile(header: unknown, dataBytes: number, headerText = JSON.stringify(header)): Uint8Array {
  const h = new TextEncoder().encode(headerText);
  const bytes = new Uint8Array(8 + h.length + dataBytes);
  new DataView(bytes.buffer).setUint32(0, h.length, true);
  bytes.set(h, 8);
  return bytes;
}

test('corrupted files: each a one-line DataError naming the file', () => {
  const good = encodeSafetensors([{ name: 'w', shape: [2], data: new Float32Array([1, 2]) }]);
  const cases: [Uint8Array, RegExp][] = [
    [good.subarray(0, 5), /w\.st: not a safetensors file: 5 bytes/],
    [(() => { const b = good.slice(); b[0] = 0xff; b[1] = 0xff; return b; })(), /w\.st: not a safetensors file or truncated: header length 65535 exceeds/],
    [(() => { const b = good.slice(); b[6] = 1; return b; })(), /header length \d+ exceeds/],
    [good.subarray(0, good.length - 4), /w\.st: truncated: tensor 'w' ends at byte 8 of the data, file has 4 bytes of data/],
    [(() => { const b = good.slice(); b[9] = 0x7b; b[8] = 0x5b; return b; })(), /w\.st: corrupt header: not valid UTF-8 JSON/],
    [rawFile([1, 2], 0), /the JSON header is not an object/],
    [rawFile({ w: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, 4), /w\.st: tensor 'w' has dtype F16; Tessera reads only F32 weights/],
    [rawFile({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), /tensor 'w' of shape \[3\] needs 12 bytes, data_offsets give 8/],
    [rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, 8), /invalid data_offsets \[8,0\]/],
    [rawFile({ w: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, 8), /tensor 'w' has no valid shape/],
    [rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), /tensor 'w' starts at byte 4 of the data, expected 0/],
    [rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, v: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 4), /starts at byte 0 of the data, expected 4/],
    [rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 12), /8 bytes after the last tensor's data/],
    [rawFile({ __metadata__: { a: 1 } }, 0), /__metadata__\.a is not a string/],
    [rawFile(null, 0, '{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}\xff'), /not valid UTF-8 JSON/],
  ];
  for (const [bytes, match] of cases) {
    try {
      decodeSafetensors(bytes, 'w.st');
      assert.unreachable(`no error for ${match}`);
    } catch (err) {
      if (!(err instanceof DataError)) throw err;
      assert.ok(match.test(err.message), `${JSON.stringify(err.message)} should match ${match}`);
      assert.not.ok(err.message.includes('\n'));
    }
  }
});

test('checkWeightsAgainstGraph returns graph.params order and lists every mismatch', () => {
  const g128 = compileGraph(spec(128), 4), g64 = compileGraph(spec(64, false), 4);
  const p128 = initParams(g128);
  const file = encodeSafetensors([...g128.params].reverse().map((p) => ({ name: p.name, shape: p.shape, data: p128[p.index] })));
  const tensors = decodeSafetensors(file, 'w.safetensors');
  const ok = checkWeightsAgainstGraph(tensors, g128, 'w.safetensors');
  assert.equal(ok.map((a) => a.length), g128.params.map((p) => p.size));
  ok.forEach((a, i) => assert.equal(a, p128[i]));
  try {
    checkWeightsAgainstGraph(tensors, g64, 'w.safetensors');
    assert.unreachable();
  } catch (err) {
    assert.instance(err, DataError);
    assert.is((err as Error).message,
      "w.safetensors: weights do not match model 'mlp': unexpected dense_1/bias; dense_1/kernel: file has [784, 128], model needs [784, 64]; dense_2/kernel: file has [128, 10], model needs [64, 10]");
  }
  // missing tensors and a wrong dtype
  const partial = new Map(tensors);
  partial.delete('dense_2/bias');
  partial.delete('dense_1/kernel');
  partial.set('dense_1/bias', { ...partial.get('dense_1/bias')!, dtype: 'F16' });
  assert.throws(() => checkWeightsAgainstGraph(partial, g128, 'p'), (e: Error) =>
    e.message === "p: weights do not match model 'mlp': missing dense_1/kernel, dense_2/bias; dense_1/bias: file has dtype F16, model needs F32");
});

test('saveWeights/loadWeights: round trip, parent folders made, atomic (no temp file left, old file replaced)', async () => {
  const g = compileGraph(spec(16), 4);
  const params = initParams(g);
  const path = join(dir, 'a', 'b', 'w.safetensors');
  await saveWeights(path, g, params, { epochs: '1' });
  const loaded = await loadWeights(path, g);
  loaded.params.forEach((p, i) => assert.equal(p, params[i]));
  assert.equal(loaded.metadata, { model: 'mlp', epochs: '1' });
  // replace the existing file
  const changed = params.map((p) => p.map((v) => v + 1));
  await saveWeights(path, g, changed);
  const again = await loadWeights(path, g);
  again.params.forEach((p, i) => assert.equal(p, changed[i]));
  assert.equal(readdirSync(join(dir, 'a', 'b')), ['w.safetensors']);
  // the file on disk is exactly encodeSafetensors' output
  assert.is(readFileSync(path).length, 8 + headerOf(readFileSync(path)).n + 4 * g.totalParams);
});

test('a failed save leaves the old file and no temp file', async () => {
  const g = compileGraph(spec(16), 4);
  const path = join(dir, 'keep.safetensors');
  writeFileSync(path, 'old');
  // the target is a directory's child of a file: mkdir fails
  await assert_rejects(saveWeights(join(path, 'sub.safetensors'), g, initParams(g)), /cannot write .*keep\.safetensors\/sub\.safetensors/);
  assert.is(readFileSync(path, 'utf8'), 'old');
  assert.equal(readdirSync(dir).filter((f) => f.includes('.tmp-')), []);
  // wrong parameter count is refused before writing anything
  await assert_rejects(saveWeights(join(dir, 'x.safetensors'), g, []), /0 tensors for 4 parameters/);
  assert.not.ok(existsSync(join(dir, 'x.safetensors')));
});

test('loadWeights: missing file is one line; mismatches name the file', async () => {
  const g = compileGraph(spec(16), 4);
  await assert_rejects(loadWeights(join(dir, 'none.safetensors'), g), /^cannot read .*none\.safetensors: no such file$/);
  const path = join(dir, 'other.safetensors');
  const g32 = compileGraph(spec(32), 4);
  await saveWeights(path, g32, initParams(g32));
  await assert_rejects(loadWeights(path, g), /other\.safetensors: weights do not match model 'mlp': dense_1\/kernel: file has \[784, 32\], model needs \[784, 16\]/);
});

async function assert_rejects(p: Promise<unknown>, match: RegExp) {
  try { await p; } catch (err) {
    assert.ok(match.test((err as Error).message), `${JSON.stringify((err as Error).message)} should match ${match}`);
    return;
  }
  assert.unreachable(`expected an error matching ${match}`);
}

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
