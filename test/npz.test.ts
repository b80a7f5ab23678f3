// NumPy .npz datasets: files written by numpy (test/fixtures/npz/make.py;
// committed) parse (stored and deflated), uint8 and float32 features,
// int64 labels of shape (n,) and (n, 1), test_split without x_test; Fortran
// order, object arrays and a missing y_train are refused in words; and a
// model trains on one through `tessera train`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataError } from '../src/data/errors.js';
import { npzDatasets } from '../src/data/npz-dataset.js';
import { parseNpz } from '../src/data/npz.js';
import { tessera } from './support/cli.js';

const FIX = resolve('test/fixtures/npz');
const read = (name: string) => new Uint8Array(readFileSync(join(FIX, name)));
const dir = mkdtempSync(join(tmpdir(), 'tessera-npz-'));

function throwsData(fn: () => unknown, match: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, DataError);
    assert.match((e as Error).message, match);
    assert.not.ok((e as Error).message.includes('\n'), 'one line');
    return;
  }
  assert.unreachable(`expected a DataError matching ${match}`);
}

test('numpy.savez and savez_compressed files: uint8 images, int64 labels, the same arrays', () => {
  const a = npzDatasets(read('images.npz'), 'images.npz');
  const b = npzDatasets(read('images-compressed.npz'), 'images-compressed.npz');
  assert.is(a.train.count, 90);
  assert.equal(a.train.shape, [4, 4]);
  assert.is(a.train.dtype, 'uint8');
  assert.is(a.test?.count, 30);
  assert.equal([...a.train.images], [...b.train.images]);
  assert.equal([...a.train.labels], [...b.train.labels]); // (n,) and (n, 1) labels
  assert.ok(a.train.labels.every((l) => l < 3) && new Set(a.train.labels).size === 3);
  const arrays = parseNpz(read('images.npz'), 'images.npz');
  assert.equal([...arrays.keys()].sort(), ['x_test', 'x_train', 'y_test', 'y_train']);
  assert.is(arrays.get('y_train')!.dtype, '<i8');
  // Held once: the arrays are views of their unzipped .npy entries (past the header), not copies of them.
  const x = arrays.get('x_train')!.data;
  assert.ok(x.byteOffset > 0 && x.buffer.byteLength > x.byteLength, `x_train is a view into its entry (offset ${x.byteOffset}, ${x.byteLength} of ${x.buffer.byteLength} bytes)`);
  const y = arrays.get('y_train')!.data;
  assert.ok(y.byteOffset > 0 && y.byteOffset % 8 === 0, `int64 labels viewed in place, aligned (offset ${y.byteOffset})`);
});

test('float32 features without x_test', () => {
  const f = npzDatasets(read('floats.npz'), 'floats.npz');
  assert.is(f.train.dtype, 'float32');
  assert.equal(f.train.shape, [3]);
  assert.is(f.test, undefined);
});

test('refused in words: Fortran order, an object array, a missing y_train, not a zip', () => {
  throwsData(() => npzDatasets(read('fortran.npz'), 'fortran.npz'), /^fortran\.npz: x_train\.npy: Fortran-order data; save it in C order/);
  throwsData(() => npzDatasets(read('object.npz'), 'object.npz'), /^object\.npz: x_train\.npy: an object array \(dtype \|O, stored with pickle\)/);
  throwsData(() => npzDatasets(read('no-labels.npz'), 'no-labels.npz'), /^no-labels\.npz: no array y_train \(the file holds x_train\)/);
  throwsData(() => npzDatasets(new Uint8Array([1, 2, 3, 4]), 'junk.npz'), /^junk\.npz: not a readable \.npz \(zip\) file/);
});

test('tessera train on an .npz written by numpy: input_shape from the file, trains and learns', async () => {
  writeFileSync(join(dir, 'm.yaml'), ['name: npz', 'seed: 1', 'layers:', '  - {type: flatten}', '  - {type: dense, units: 16, activation: relu}', '  - {type: dense, units: 3, activation: linear}',
    'loss: {type: sparse_categorical_crossentropy, from_logits: true}', 'optimizer: {type: adam, learning_rate: 0.01}', 'training: {epochs: 10, batch_size: 8}',
    `dataset: {format: npz, path: ${join(FIX, 'images.npz')}}`, 'backend: wasm', ''].join('\n'));
  const r = await tessera('train', join(dir, 'm.yaml'));
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /examples: 90 training, 30 test/);
  assert.match(r.stdout, /^test  loss .*\(30 images\)$/m, 'examples of two or more axes are images');
  const acc = Number(r.stdout.match(/accuracy (\d+\.\d+)%/)![1]);
  assert.ok(acc >= 90, `learns the three patterns: ${acc}%`);
  // The float file: test_split holds out ceil(60 · 0.2) = 12 rows.
  writeFileSync(join(dir, 'f.yaml'), readFileSync(join(dir, 'm.yaml'), 'utf8').replace('images.npz', 'floats.npz').replace('units: 3', 'units: 2'));
  const f = await tessera('train', join(dir, 'f.yaml'));
  assert.is(f.code, 0, f.stderr);
  assert.match(f.stdout, /examples: 48 training, 12 test/);
  assert.match(f.stdout, /^test  loss .*\(12 examples\)$/m, 'flat float features are examples, not images');
});

test('one-hot labels (to_categorical) are the class ids of the integer labels, and train with categorical_crossentropy; soft labels are refused', async () => {
  const hot = npzDatasets(read('onehot.npz'), 'onehot.npz');
  const ids = npzDatasets(read('images.npz'), 'images.npz');
  assert.equal(Array.from(hot.train.labels), Array.from(ids.train.labels));
  assert.equal(Array.from(hot.test!.labels), Array.from(ids.test!.labels));
  throwsData(() => npzDatasets(read('soft.npz'), 'soft.npz'), /soft\.npz: y_train: row 0 is not one-hot \(0\.3333/);
  writeFileSync(join(dir, 'c.yaml'), readFileSync(join(dir, 'm.yaml'), 'utf8').replace('images.npz', 'onehot.npz').replace('sparse_categorical_crossentropy', 'categorical_crossentropy'));
  const r = await tessera('train', join(dir, 'c.yaml'));
  assert.is(r.code, 0, r.stderr);
  const acc = Number(r.stdout.match(/accuracy (\d+\.\d+)%/)![1]);
  assert.ok(acc >= 90, `learns the three patterns from one-hot labels: ${acc}%`);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
