// Image folders: one subfolder per class of PNG and JPEG files (written here
// with fast-png's and jpeg-js's encoders), decoded, converted and resized
// as Keras does, trained through `tessera train` with validation_split and
// a test_path folder; an empty class folder and an undecodable image are
// one error naming the folder or file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { encode as encodeJpeg } from 'jpeg-js';
import { DataError } from '../src/data/errors.js';
import { decodeImage, imageInput } from '../src/data/images.js';
import { tessera } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-images-'));

/** An 8×8 RGB image: 'bars' (vertical stripes) or 'rings' (a bright border), with a little per-image variation. */
function picture(kind: 'bars' | 'rings', i: number, size = 8): Uint8Array {
  const px = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const on = kind === 'bars' ? x % 2 === 0 : y === 0 || x === 0 || y === size - 1 || x === size - 1;
    const v = on ? 200 + (i % 5) * 10 : 20 + (i % 7) * 5;
    px.set([v, v, (v * 3) >> 2], (y * size + x) * 3);
  }
  return px;
}
const png = (px: Uint8Array, size = 8) => encodePng({ width: size, height: size, data: px, channels: 3, depth: 8 });
const jpeg = (px: Uint8Array, size = 8) => {
  const rgba = new Uint8Array(size * size * 4);
  for (let p = 0; p < size * size; p++) rgba.set([px[3 * p]!, px[3 * p + 1]!, px[3 * p + 2]!, 255], 4 * p);
  return new Uint8Array(encodeJpeg({ width: size, height: size, data: rgba }, 95).data);
};

function makeFolder(root: string, count: number): void {
  for (const kind of ['bars', 'rings'] as const) {
    mkdirSync(join(root, kind), { recursive: true });
    for (let i = 0; i < count; i++) {
      // a few JPEGs and some 16×16 PNGs, resized to 8×8 on the way in
      const file = i % 5 === 0 ? `${i}.jpg` : `${i}.png`;
      writeFileSync(join(root, kind, file), i % 5 === 0 ? jpeg(picture(kind, i)) : i % 3 === 0 ? png(picture(kind, i, 16), 16) : png(picture(kind, i)));
    }
  }
}
makeFolder(join(dir, 'train'), 30);
makeFolder(join(dir, 'test'), 10);

const model = (dataset: string, extra = '') => ['name: folders', 'seed: 5', 'layers:', '  - {type: flatten}', '  - {type: dense, units: 16, activation: relu}', '  - {type: dense, units: 2, activation: linear}',
  'loss: {type: sparse_categorical_crossentropy, from_logits: true}', 'optimizer: {type: adam, learning_rate: 0.01}', `training: {epochs: 8, batch_size: 8${extra}}`,
  `dataset: {format: image_folder, image_size: [8, 8], ${dataset}}`, 'backend: wasm', ''].join('\n');

test('decode: PNG and JPEG by content; grayscale by TF weights; bilinear resize with half-pixel centres', () => {
  const img = decodeImage(png(picture('bars', 0)), 'a.png');
  assert.equal([img.width, img.height, img.channels], [8, 8, 3]);
  assert.equal([...img.data.subarray(0, 3)], [200, 200, 150]);
  const gray = imageInput(png(picture('bars', 0)), 'a.png', [8, 8], 'grayscale');
  assert.is(gray[0], Math.round(0.2989 * 200 + 0.587 * 200 + 0.114 * 150));
  // 2×2 → 4×4: the corners keep their values, the inner pixels blend 3:1
  const two = encodePng({ width: 2, height: 1, data: new Uint8Array([0, 100]), channels: 1, depth: 8 });
  assert.equal([...imageInput(two, 't.png', [1, 4], 'grayscale')], [0, 25, 75, 100]);
  const j = decodeImage(jpeg(picture('rings', 0)), 'b.jpg');
  assert.equal([j.width, j.height, j.channels], [8, 8, 3]);
  assert.ok(Math.abs(j.data[0]! - 200) < 12, `JPEG close to the original (${j.data[0]})`);
});

test('tessera train on a PNG/JPEG folder: test_path, validation_split, input_shape from the folder', async () => {
  writeFileSync(join(dir, 'm.yaml'), model(`path: train, test_path: test`, ', validation_split: 0.2'));
  const weights = join(dir, 'w.safetensors');
  const r = await tessera('train', join(dir, 'm.yaml'), '--save', weights);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /2 classes: bars, rings; 8×8 grayscale/);
  // predict on PNG and JPEG files, resized to the input shape, with the class names saved in the weights
  const files = [join(dir, 'test', 'bars', '1.png'), join(dir, 'test', 'rings', '0.jpg'), join(dir, 'test', 'rings', '3.png')];
  const p = await tessera('predict', join(dir, 'm.yaml'), '--weights', weights, '--images', files.join(','), '--json');
  assert.is(p.code, 0, p.stderr);
  const preds = (JSON.parse(p.stdout) as { predictions: Array<{ class: string }> }).predictions;
  assert.equal(preds.map((x) => x.class), ['bars', 'rings', 'rings']);
  assert.match(r.stdout, /examples: 48 training, 12 validation .*, 20 test/);
  assert.match(r.stdout, /val_accuracy/);
  assert.match(r.stdout, /^test  loss .*\(20 images\)$/m);
  const acc = Number(r.stdout.match(/test\s+loss \S+\s+accuracy (\d+\.\d+)%/)![1]);
  assert.ok(acc >= 90, `bars vs rings: ${acc}%`);
  // validate reads no data (the shapes wait for it); validate --data lists the folders and shows the layers
  const v = await tessera('validate', join(dir, 'm.yaml'));
  assert.is(v.code, 0, v.stderr);
  assert.match(v.stdout, /input_shape comes from the data/);
  const d = await tessera('validate', '--data', join(dir, 'm.yaml'));
  assert.is(d.code, 0, d.stderr);
  assert.match(d.stdout, /Input shape: \(None, 8, 8, 1\)/);
  writeFileSync(join(dir, 'wrong.yaml'), model(`path: train, test_path: test`).replace('seed: 5', 'seed: 5\ninput_shape: [28, 28]'));
  const w = await tessera('validate', '--data', join(dir, 'wrong.yaml'));
  assert.is(w.code, 1);
  assert.match(w.stderr, /wrong\.yaml:3:14: .*input_shape \[28, 28\] does not match the data in .*train, which has shape \[8, 8, 1\]/);
});

test('bad folders: an empty class folder and an undecodable image, named', async () => {
  mkdirSync(join(dir, 'empty', 'a'), { recursive: true });
  mkdirSync(join(dir, 'empty', 'b'), { recursive: true });
  writeFileSync(join(dir, 'empty', 'a', '1.png'), png(picture('bars', 1)));
  writeFileSync(join(dir, 'e.yaml'), model('path: empty'));
  const e = await tessera('train', join(dir, 'e.yaml'));
  assert.is(e.code, 1);
  assert.match(e.stderr, /empty\/b: the class folder 'b' has no PNG or JPEG files/);
  writeFileSync(join(dir, 'empty', 'b', 'broken.png'), new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]));
  const b = await tessera('train', join(dir, 'e.yaml'));
  assert.is(b.code, 1);
  assert.match(b.stderr, /empty\/b\/broken\.png: cannot decode the image/);
  assert.not.match(b.stderr, /\n\s+at /);
  assert.throws(() => decodeImage(new Uint8Array([1, 2, 3, 4]), 'x.jpg'), (err: Error) => err instanceof DataError && /x\.jpg: cannot decode the image: not a PNG or JPEG file/.test(err.message));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
