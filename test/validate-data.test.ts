// `tessera validate --data` reads data headers, not bodies (issue 13):
//   1. readDataFacts gives the facts the full loaders give (shape, classes,
//      dtype, source, class names, targets) for IDX (plain, gzip, named
//      MNIST), CSV (class names, numeric ids, regression, train/test files),
//      npz (stored, deflated, one-hot, float) and image folders.
//   2. Files whose body is broken after a valid header validate, while
//      train reports the damage (so validate cannot have read the body): a
//      gzip IDX cut short after its first KiB, an IDX label past the declared
//      classes, an npz label out of range in a deflated archive, a bad CSV
//      value far past the first 64 KiB, an undecodable image.
//   3. What the headers do show is still an error naming the file: a plain
//      IDX shorter than its dims, a ragged CSV row in the first rows, an npz
//      without y_train.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encode as encodePng } from 'fast-png';
import { zipSync } from 'fflate';
import { validateModelConfig } from '../src/config/validate.js';
import type { ModelSpec } from '../src/config/types.js';
import { readDataFacts } from '../src/data/headers-node.js';
import { loadDataset } from '../src/data/load-node.js';
import { tessera } from './support/cli.js';
import { idx } from './support/idx.js';

const root = process.cwd();
const dir = mkdtempSync(join(tmpdir(), 'tessera-validate-data-'));
const FIX = join(root, 'test/fixtures/npz');


/** A .npy file (version 1) of little-endian data, as numpy.save writes it. */
function npy(descr: string, shape: number[], data: Uint8Array): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = new Uint8Array(10 + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  out.set(data, 10 + header.length);
  return out;
}
const int64s = (v: number[]) => new Uint8Array(BigInt64Array.from(v.map(BigInt)).buffer);
const noise = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 24);

/** A model file over `dataset` (flow-style), a dense layer of `units` on its flattened data. */
function model(dataset: string, units: number, loss = '{type: sparse_categorical_crossentropy, from_logits: true}'): string {
  return ['name: t', 'seed: 3', 'layers:', '  - {type: flatten}', '  - {type: dense, units: 8, activation: relu}', `  - {type: dense, units: ${units}, activation: linear}`,
    `loss: ${loss}`, 'optimizer: {type: adam, learning_rate: 0.01}', 'training: {epochs: 1, batch_size: 4}', `dataset: ${dataset}`, 'backend: js', ''].join('\n');
}

function spec(text: string, file: string): ModelSpec {
  const r = validateModelConfig(text, file);
  if (!r.ok) throw new Error(`${file}: ${r.errors.map((e) => e.message).join('; ')}`);
  return r.spec;
}

/** A model file written into the temporary folder, with its spec. */
function write(name: string, text: string): { file: string; spec: ModelSpec } {
  const file = join(dir, name);
  writeFileSync(file, text);
  return { file, spec: spec(text, file) };
}

// Fixtures: IDX (plain and gzip), an image folder, an npz written by fflate (deflated).
writeFileSync(join(dir, 'tr-x'), idx([12, 2, 3], noise(72)));
writeFileSync(join(dir, 'tr-y'), idx([12], Array.from({ length: 12 }, (_, i) => i % 3)));
writeFileSync(join(dir, 'te-x.gz'), gzipSync(idx([6, 2, 3], noise(36))));
writeFileSync(join(dir, 'te-y'), idx([6], [0, 1, 2, 0, 1, 2]));
const IDX = '{train_images: tr-x, train_labels: tr-y, test_images: te-x.gz, test_labels: te-y';
for (const [cls, n] of [['a', 3], ['b', 2]] as const) {
  mkdirSync(join(dir, 'pics', cls), { recursive: true });
  for (let i = 0; i < n; i++) writeFileSync(join(dir, 'pics', cls, `${i}.png`), encodePng({ width: 5, height: 4, data: noise(20), channels: 1, depth: 8 }));
}
writeFileSync(join(dir, 'deflated.npz'), zipSync({ 'x_train.npy': npy('|u1', [400, 8, 8], noise(400 * 64)), 'y_train.npy': npy('<i8', [400], int64s(Array.from({ length: 400 }, (_, i) => i % 4))) }, { level: 6 }));

test('the facts from the headers are the full loaders\' facts: IDX, CSV, npz, image folders', async () => {
  const cases: Array<[string, ModelSpec, string]> = [
    ['idx (plain and gzip)', write('idx.yaml', model(`${IDX}}`, 3)).spec, dir],
    ['idx, declared classes', write('idx5.yaml', model(`${IDX}, classes: 5}`, 5)).spec, dir],
    ['mnist (named)', spec(readFileSync('models/mnist.yaml', 'utf8'), 'models/mnist.yaml'), join(root, 'models')],
    ['csv, class names', spec(readFileSync('models/iris.yaml', 'utf8'), 'models/iris.yaml'), join(root, 'models')],
    ['csv, regression', spec(readFileSync('models/iris-regression.yaml', 'utf8'), 'models/iris-regression.yaml'), join(root, 'models')],
    ['npz, stored, with x_test', write('n1.yaml', model(`{format: npz, path: ${join(FIX, 'images.npz')}}`, 3)).spec, dir],
    ['npz, deflated (numpy)', write('n2.yaml', model(`{format: npz, path: ${join(FIX, 'images-compressed.npz')}}`, 3)).spec, dir],
    ['npz, one-hot', write('n3.yaml', model(`{format: npz, path: ${join(FIX, 'onehot.npz')}}`, 3, '{type: categorical_crossentropy, from_logits: true}')).spec, dir],
    ['npz, float32, test_split', write('n4.yaml', model(`{format: npz, path: ${join(FIX, 'floats.npz')}}`, 2)).spec, dir],
    ['npz, deflated (fflate)', write('n5.yaml', model('{format: npz, path: deflated.npz}', 4)).spec, dir],
    ['image folder', write('p.yaml', model('{format: image_folder, path: pics, image_size: [4, 5], test_split: 0.4}', 2)).spec, dir],
  ];
  for (const [what, s, base] of cases) {
    const full = (await loadDataset(s, base)).facts;
    const heads = await readDataFacts(s, base);
    // The header path may not know the counts (a CSV with declared classes); where it gives them they agree.
    const { train, test, ...rest } = full;
    const { train: hTrain, test: hTest, ...hRest } = heads;
    assert.equal(hRest, rest, what);
    if (hTrain !== undefined) assert.equal([hTrain, hTest], [train, test], `${what}: counts`);
  }
});

/** validate --data passes (exit 0) and train fails with one line matching `error`. */
async function validatesButTrainFails(file: string, error: RegExp): Promise<void> {
  const v = await tessera('validate', '--data', file);
  assert.is(v.code, 0, `validate --data should pass without reading the body: ${v.stderr}`);
  assert.match(v.stdout, /Input shape/);
  const t = await tessera('train', file, '--quiet');
  assert.is(t.code, 1, `train should read the body and fail: ${t.stdout}`);
  assert.match(t.stderr, error);
  assert.not.match(t.stderr, /\n\s+at /);
}

test('a gzip IDX cut short after its header validates (only its first bytes are inflated); train reports it', async () => {
  const whole = gzipSync(idx([2000, 8, 8], noise(2000 * 64)), { level: 1 });
  writeFileSync(join(dir, 'cut-x.gz'), whole.subarray(0, 1024));
  writeFileSync(join(dir, 'cut-y'), idx([2000], Array.from({ length: 2000 }, (_, i) => i % 3)));
  writeFileSync(join(dir, 'cut-tx'), idx([6, 8, 8], noise(6 * 64)));
  const { file } = write('cut.yaml', model('{train_images: cut-x.gz, train_labels: cut-y, test_images: cut-tx, test_labels: te-y, classes: 3}', 3));
  await validatesButTrainFails(file, /cut-x\.gz: truncated gzip data/);
});

test('IDX labels past the declared classes and an npz label out of range validate (labels unread); train names the entry', async () => {
  writeFileSync(join(dir, 'far-y'), idx([12], [0, 1, 2, 0, 1, 2, 0, 1, 7, 0, 1, 2]));
  const { file } = write('far.yaml', model('{train_images: tr-x, train_labels: far-y, test_images: tr-x, test_labels: tr-y, classes: 3}', 3));
  await validatesButTrainFails(file, /far-y: label 8 is 7, expected 0\.\.2 \(3 classes\)/);
  writeFileSync(join(dir, 'bad-label.npz'), zipSync({ 'x_train.npy': npy('|u1', [400, 8, 8], noise(400 * 64)), 'y_train.npy': npy('<i8', [400], int64s(Array.from({ length: 400 }, (_, i) => (i === 321 ? 300 : i % 4)))) }, { level: 6 }));
  const n = write('badn.yaml', model('{format: npz, path: bad-label.npz, classes: 4}', 4));
  await validatesButTrainFails(n.file, /bad-label\.npz: y_train: entry 321 is 300; class ids must be 0\.\.255/);
});

test('a CSV with a bad value past its first 64 KiB validates (its header and first rows are read); train names the row', async () => {
  const rows = ['f0,f1,f2,label'];
  for (let i = 0; i < 4000; i++) rows.push(`${(i % 97) / 10},${(i % 13) / 7},${i === 3900 ? 'oops' : (i % 5) / 3},${i % 3}`);
  writeFileSync(join(dir, 'long.csv'), rows.join('\n') + '\n');
  assert.ok(rows.slice(0, 3901).join('\n').length > 64 * 1024, 'the bad row lies past the first 64 KiB');
  const { file } = write('long.yaml', model('{format: csv, path: long.csv, classes: 3}', 3));
  await validatesButTrainFails(file, /long\.csv: row 3902, column 'f2': 'oops' is not a number/);
});

test('an undecodable image validates (folders are listed, images not decoded); train names it', async () => {
  mkdirSync(join(dir, 'broken', 'a'), { recursive: true });
  mkdirSync(join(dir, 'broken', 'b'), { recursive: true });
  for (const c of ['a', 'b']) for (let i = 0; i < 3; i++) writeFileSync(join(dir, 'broken', c, `${i}.png`), encodePng({ width: 4, height: 4, data: noise(16), channels: 1, depth: 8 }));
  writeFileSync(join(dir, 'broken', 'b', '9.png'), new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
  const { file } = write('broken.yaml', model('{format: image_folder, path: broken, image_size: [4, 4], test_split: 0.3}', 2));
  await validatesButTrainFails(file, /broken\/b\/9\.png: cannot decode the image/);
});

test('what the headers show is still one error naming the file: a short plain IDX, a ragged first row, an npz without y_train, an empty class folder', async () => {
  const short = idx([12, 2, 3], noise(72)).subarray(0, 50);
  writeFileSync(join(dir, 'short-x'), short);
  const cases: Array<[string, RegExp]> = [
    [model('{train_images: short-x, train_labels: tr-y, test_images: tr-x, test_labels: tr-y, classes: 3}', 3), /short-x: truncated: header says 12×2×3 = 72 bytes of data, file has 34/],
    [model(`{format: npz, path: ${join(FIX, 'no-labels.npz')}}`, 3), /no-labels\.npz: no array y_train \(the file holds x_train\)/],
  ];
  writeFileSync(join(dir, 'ragged.csv'), 'a,b,label\n1,2,0\n3,1\n');
  cases.push([model('{format: csv, path: ragged.csv, classes: 2}', 2), /ragged\.csv: row 3 has 2 fields, the header has 3/]);
  mkdirSync(join(dir, 'hollow', 'a'), { recursive: true });
  mkdirSync(join(dir, 'hollow', 'b'), { recursive: true });
  writeFileSync(join(dir, 'hollow', 'a', '0.png'), encodePng({ width: 4, height: 4, data: noise(16), channels: 1, depth: 8 }));
  cases.push([model('{format: image_folder, path: hollow, image_size: [4, 4]}', 2), /hollow\/b: the class folder 'b' has no PNG or JPEG files/]);
  for (const [i, [text, error]] of cases.entries()) {
    const { file } = write(`bad${i}.yaml`, text);
    const v = await tessera('validate', '--data', file);
    assert.is(v.code, 1, v.stdout);
    assert.match(v.stderr, error);
    assert.not.match(v.stderr, /\n\s+at /);
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
