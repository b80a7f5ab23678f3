// A model's dataset in Node, whatever its format: the one entry the
// commands call. IDX lives in node.ts; the tabular formats are read here
// and handed to the browser-safe parsers (csv.ts, npz.ts), then split and
// normalised as preprocess.ts says.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ModelSpec } from '../config/types.js';
import { csvExamples, parseCsv, type CsvOptions } from './csv.js';
import { npzDatasets } from './npz-dataset.js';
import { loadImageFolder } from './image-folder-node.js';
import { DataError } from './errors.js';
import { factsOf } from './facts.js';
import { loadIdx, readBytes, type LoadedData } from './node.js';
import { applyNormalize, normalizeStats, splitTest, type DataMetadata } from './preprocess.js';
import type { DatasetTensors } from './types.js';
import { loadText } from './text-node.js';

export type { LoadedData } from './node.js';

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

/** Normalise train and test with the training statistics (or the saved ones); the metadata to save. */
export function normalizeSplits(
  sets: { train: DatasetTensors; test: DatasetTensors; validation?: DatasetTensors },
  method: ModelSpec['dataset']['normalize'], source: string, saved?: DataMetadata,
): { sets: typeof sets; metadata: DataMetadata } {
  if (!method || method === 'none') return { sets, metadata: {} };
  const stats = saved?.normalize ?? normalizeStats(sets.train, method);
  const apply = (d: DatasetTensors) => applyNormalize(d, stats, source);
  return {
    sets: { train: apply(sets.train), test: apply(sets.test), ...(sets.validation ? { validation: apply(sets.validation) } : {}) },
    metadata: { normalize: stats },
  };
}

/** format: csv: one file split by test_split with the seed, or train_path and test_path. */
async function loadCsv(spec: ModelSpec, baseDir: string, options: LoadOptions): Promise<LoadedData> {
  const ds = spec.dataset;
  const o: CsvOptions = {
    header: ds.header ?? true, delimiter: ds.delimiter ?? ',', task: ds.task ?? 'classification',
    ...(ds.label !== undefined ? { label: ds.label } : {}), ...(ds.features ? { features: ds.features } : {}), ...(ds.classes !== undefined ? { classes: ds.classes } : {}),
  };
  const read = async (p: string) => parseCsv(await readText(p), p, o);
  let train: DatasetTensors, test: DatasetTensors, classNames: string[] | undefined, names: { train: string; test: string };
  let source: string;
  if (ds.path !== undefined) {
    const path = resolve(baseDir, ds.path);
    const all = csvExamples(await read(path), o, options.saved?.classNames);
    classNames = all.classNames;
    const withTargets = all.targets ? { ...all.data, targets: all.targets, targetWidth: 1 } : all.data;
    ({ train, test } = splitTest(withTargets, ds.test_split ?? 0.2, spec.seed, path));
    names = { train: path, test: path };
    source = `${path} (${train.count} training rows, ${test.count} test rows held out by test_split ${ds.test_split ?? 0.2} with seed ${spec.seed})`;
  } else {
    const [trainPath, testPath] = [resolve(baseDir, ds.train_path!), resolve(baseDir, ds.test_path!)];
    const tr = csvExamples(await read(trainPath), o, options.saved?.classNames);
    const te = csvExamples(await read(testPath), o, tr.classNames ?? options.saved?.classNames);
    if (tr.featureNames.join(',') !== te.featureNames.join(',') && ds.header !== false) {
      throw new DataError(testPath, `${testPath}: the feature columns (${te.featureNames.join(', ')}) differ from the training file's (${tr.featureNames.join(', ')})`);
    }
    classNames = tr.classNames;
    train = tr.targets ? { ...tr.data, targets: tr.targets, targetWidth: 1 } : tr.data;
    test = te.targets ? { ...te.data, targets: te.targets, targetWidth: 1 } : te.data;
    names = { train: trainPath, test: testPath };
    source = `train: ${trainPath}; test: ${testPath}`;
  }
  const regression = o.task === 'regression';
  const facts = regression
    ? { source: names.train, inputShape: [train.features], classes: 1, targetWidth: 1, dtype: 'float32' as const, train: train.count, test: test.count }
    : factsOf({ train, test }, { source: names.train, names: { ...names, validation: '' }, ...(ds.classes !== undefined || classNames ? { classes: ds.classes ?? classNames!.length } : {}), ...(classNames ? { classNames } : {}) });
  if (!regression && ds.classes !== undefined && classNames && classNames.length > ds.classes) {
    throw new DataError(names.train, `${names.train}: ${classNames.length} classes, more than the ${ds.classes} declared`);
  }
  const { sets, metadata } = normalizeSplits({ train, test }, ds.normalize, names.train, options.saved);
  return { ...sets, source, facts, metadata: { ...metadata, ...(classNames ? { classNames } : {}) } };
}

/** format: npz: x_train, y_train and x_test, y_test (or test_split of the training arrays) of one file. */
async function loadNpz(spec: ModelSpec, baseDir: string): Promise<LoadedData> {
  const path = resolve(baseDir, spec.dataset.path!);
  const { train: all, test: given } = npzDatasets(await readBytes(path), path);
  const split = given ? { train: all, test: given } : splitTest(all, spec.dataset.test_split ?? 0.2, spec.seed, path);
  const facts = factsOf(split, { source: path, names: { train: `${path}: x_train`, test: given ? `${path}: x_test` : `${path}: x_train`, validation: '' },
    labelNames: { train: `${path}: y_train`, test: given ? `${path}: y_test` : `${path}: y_train`, validation: '' },
    ...(spec.dataset.classes !== undefined ? { classes: spec.dataset.classes } : {}) });
  const source = given ? `${path} (x_train, y_train; x_test, y_test)` : `${path} (x_train, y_train; ${split.test.count} test examples held out by test_split ${spec.dataset.test_split ?? 0.2} with seed ${spec.seed})`;
  return { ...split, source, facts, metadata: {} };
}
