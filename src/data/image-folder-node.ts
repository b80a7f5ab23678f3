// format: image_folder in Node: one subfolder per class (sorted names, as
// Keras's image_dataset_from_directory numbers them), each holding PNG or
// JPEG files; every image decoded and resized (images.ts) into one uint8
// set of [height, width, channels] examples, shuffled with the model's seed
// (as Keras shuffles before validation_split, so the held-out end is not
// the last classes). The test set is test_path's folder (same class names),
// else test_split of the images.

import { readdir } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import type { ModelSpec } from '../config/types.js';
import { DataError, formatCount } from './errors.js';
import { factsOf } from './facts.js';
import { IMAGE_EXTENSIONS, imageInput, type ColorMode } from './images.js';
import { readBytes, type LoadedData } from './node.js';
import { shuffledOrder, splitTest, takeRows } from './preprocess.js';
import type { DatasetTensors } from './types.js';

async function entries(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(dir, `cannot read the image folder ${dir}: ${code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'not a folder' : code ?? String(e)}`);
  }
}

/** Every image of a folder of class subfolders; `classNames` (the training folder's) fixes the ids of a test folder. */
async function readFolder(dir: string, size: [number, number], mode: ColorMode, classNames?: string[]): Promise<{ data: DatasetTensors; classNames: string[] }> {
  const subdirs = (await entries(dir)).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  if (subdirs.length === 0) throw new DataError(dir, `${dir}: no class subfolders; an image folder holds one subfolder of images per class`);
  const names = classNames ?? subdirs;
  if (classNames) {
    const unknown = subdirs.filter((s) => !classNames.includes(s));
    if (unknown.length) throw new DataError(dir, `${dir}: class folder${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} not among the training classes (${classNames.join(', ')})`);
  }
  if (names.length > 256) throw new DataError(dir, `${dir}: ${formatCount(names.length)} class folders; at most 256 classes are supported`);
  const files: Array<{ path: string; label: number }> = [];
  for (const sub of subdirs) {
    const images = (await entries(join(dir, sub))).filter((e) => e.isFile() && IMAGE_EXTENSIONS.includes(extname(e.name).toLowerCase())).map((e) => e.name).sort();
    if (images.length === 0) throw new DataError(join(dir, sub), `${join(dir, sub)}: the class folder '${sub}' has no PNG or JPEG files`);
    for (const f of images) files.push({ path: join(dir, sub, f), label: names.indexOf(sub) });
  }
  const per = size[0] * size[1] * (mode === 'rgb' ? 3 : 1);
  const pixels = new Uint8Array(files.length * per), labels = new Uint8Array(files.length);
  for (let i = 0; i < files.length; i++) {
    pixels.set(imageInput(await readBytes(files[i]!.path), files[i]!.path, size, mode), i * per);
    labels[i] = files[i]!.label;
  }
  const shape = [size[0], size[1], mode === 'rgb' ? 3 : 1];
  return { data: { images: pixels, labels, count: files.length, features: per, dtype: 'uint8', shape }, classNames: names };
}

/** The training images (shuffled with the seed) and the test images of a model's image folders. */
export async function loadImageFolder(spec: ModelSpec, baseDir: string): Promise<LoadedData> {
  const ds = spec.dataset;
  const size = (ds.image_size ?? [256, 256]) as [number, number];
  const mode = ds.color_mode ?? 'grayscale';
  const path = resolve(baseDir, ds.path!);
  const { data, classNames } = await readFolder(path, size, mode);
  let train: DatasetTensors, test: DatasetTensors, testName: string;
  if (ds.test_path !== undefined) {
    testName = resolve(baseDir, ds.test_path);
    train = takeRows(data, shuffledOrder(data.count, spec.seed));
    test = (await readFolder(testName, size, mode, classNames)).data;
  } else {
    testName = path;
    ({ train, test } = splitTest(data, ds.test_split ?? 0.2, spec.seed, path));
  }
  const facts = factsOf({ train, test }, { source: path, names: { train: path, test: testName, validation: '' }, classes: ds.classes ?? classNames.length, classNames });
  const how = ds.test_path !== undefined ? `test: ${testName}` : `${test.count} test images held out by test_split ${ds.test_split ?? 0.2} with seed ${spec.seed}`;
  return { train, test, source: `${path} (${classNames.length} classes: ${classNames.join(', ')}; ${size[0]}×${size[1]} ${mode}; ${how})`, facts, metadata: { classNames } };
}
