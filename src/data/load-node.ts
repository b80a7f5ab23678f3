// A model's dataset in Node, whatever its format: the one entry the
// commands call. IDX lives in node.ts; the tabular formats are read here
// and handed to the browser-safe tabular.ts (which the demo page calls with
// a dropped file), which parses, splits and normalises them.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ModelSpec } from '../config/types.js';
import { loadImageFolder } from './image-folder-node.js';
import { loadIdx, readBytes } from './node.js';
import type { DataMetadata } from './preprocess.js';
import { csvDataset, npzDataset, type CsvText } from './tabular.js';
import type { LoadedData } from './types.js';
import { loadText } from './text-node.js';

export type { LoadedData } from './types.js';
export { normalizeSplits } from './tabular.js';

export interface LoadOptions {
  /** The weights' data metadata (eval, predict): its normalisation and class names are used instead of the training split's. */
  saved?: DataMetadata;
}

/** The train, test (and validation, when the model names one) sets of a model, with what they hold. Paths are relative to `baseDir`. */
export async function loadDataset(spec: ModelSpec, baseDir: string, options: LoadOptions = {}): Promise<LoadedData> {
  const format = spec.dataset.format ?? 'idx';
  switch (format) {
    case 'idx': return loadIdx(spec.dataset, baseDir);
    case 'csv': return loadCsv(spec, baseDir, options);
    case 'npz': return loadNpz(spec, baseDir);
    case 'image_folder': return loadImageFolder(spec, baseDir);
    case 'text': return loadText(spec, baseDir, options);
  }
}

async function readText(path: string): Promise<string> {
  await readBytes(path); // the same one-line error for a missing file
  return readFile(path, 'utf8');
}

/** format: csv: one file split by test_split with the seed, or train_path and test_path (tabular.ts does the rest). */
async function loadCsv(spec: ModelSpec, baseDir: string, options: LoadOptions): Promise<LoadedData> {
  const ds = spec.dataset;
  const read = async (p: string): Promise<CsvText> => ({ name: p, text: await readText(p) });
  const files = ds.path !== undefined
    ? { path: await read(resolve(baseDir, ds.path)) }
    : { train: await read(resolve(baseDir, ds.train_path!)), test: await read(resolve(baseDir, ds.test_path!)) };
  return csvDataset(spec, files, options.saved);
}

/** format: npz: one file's arrays (tabular.ts). */
async function loadNpz(spec: ModelSpec, baseDir: string): Promise<LoadedData> {
  const path = resolve(baseDir, spec.dataset.path!);
  return npzDataset(spec, await readBytes(path), path);
}
