// The tabular formats (csv, npz) from their text or bytes to a loaded
// dataset: split by test_split with the seed, checked (facts.ts) and
// normalised with the training statistics. The Node loader (load-node.ts)
// reads the files and the demo page hands over a dropped file; both call
// these, so a CSV gives the page exactly the examples it gives the CLI.
// Browser-safe.

import type { DatasetSpec, ModelSpec } from '../config/types.js';
import { csvExamples, parseCsv, type CsvOptions } from './csv.js';
import { DataError } from './errors.js';
import { factsOf } from './facts.js';
import { npzDatasets } from './npz-dataset.js';
import { applyNormalize, normalizeStats, splitTest, type DataMetadata } from './preprocess.js';
import type { DatasetTensors, LoadedData } from './types.js';

/** A CSV file's text and the name its errors give (a path, or a dropped file's name). */
export interface CsvText { name: string; text: string }

/** The CSV reader's options from a model's dataset keys (the schema's defaults filled in). */
export function csvOptions(ds: DatasetSpec): CsvOptions {
  return {
    header: ds.header ?? true, delimiter: ds.delimiter ?? ',', task: ds.task ?? 'classification',
    ...(ds.label !== undefined ? { label: ds.label } : {}), ...(ds.features ? { features: ds.features } : {}), ...(ds.classes !== undefined ? { classes: ds.classes } : {}),
  };
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

/**
 * format: csv: one file (`path`) split by test_split with the seed, or a
 * training and a test file (train_path, test_path). `saved` is the weights'
 * metadata (eval, predict): its class names and statistics are used instead
 * of the training rows'.
 */
export function csvDataset(spec: ModelSpec, files: { path: CsvText } | { train: CsvText; test: CsvText }, saved?: DataMetadata): LoadedData {
  const ds = spec.dataset;
  const o = csvOptions(ds);
  const read = (f: CsvText) => parseCsv(f.text, f.name, o);
  let train: DatasetTensors, test: DatasetTensors, classNames: string[] | undefined, names: { train: string; test: string };
  let source: string;
  if ('path' in files) {
    const path = files.path.name;
    const all = csvExamples(read(files.path), o, saved?.classNames);
    classNames = all.classNames;
    const withTargets = all.targets ? { ...all.data, targets: all.targets, targetWidth: 1 } : all.data;
    ({ train, test } = splitTest(withTargets, ds.test_split ?? 0.2, spec.seed, path));
    names = { train: path, test: path };
    source = `${path} (${train.count} training rows, ${test.count} test rows held out by test_split ${ds.test_split ?? 0.2} with seed ${spec.seed})`;
  } else {
    const [trainPath, testPath] = [files.train.name, files.test.name];
    const tr = csvExamples(read(files.train), o, saved?.classNames);
    const te = csvExamples(read(files.test), o, tr.classNames ?? saved?.classNames);
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
  const { sets, metadata } = normalizeSplits({ train, test }, ds.normalize, names.train, saved);
  return { ...sets, source, facts, metadata: { ...metadata, ...(classNames ? { classNames } : {}) } };
}

/** format: npz: x_train, y_train and x_test, y_test (or test_split of the training arrays) of one file; `path` names it in errors. */
export function npzDataset(spec: ModelSpec, bytes: Uint8Array, path: string): LoadedData {
  const { train: all, test: given } = npzDatasets(bytes, path);
  const split = given ? { train: all, test: given } : splitTest(all, spec.dataset.test_split ?? 0.2, spec.seed, path);
  const facts = factsOf(split, { source: path, names: { train: `${path}: x_train`, test: given ? `${path}: x_test` : `${path}: x_train`, validation: '' },
    labelNames: { train: `${path}: y_train`, test: given ? `${path}: y_test` : `${path}: y_train`, validation: '' },
    ...(spec.dataset.classes !== undefined ? { classes: spec.dataset.classes } : {}) });
  const source = given ? `${path} (x_train, y_train; x_test, y_test)` : `${path} (x_train, y_train; ${split.test.count} test examples held out by test_split ${spec.dataset.test_split ?? 0.2} with seed ${spec.seed})`;
  return { ...split, source, facts, metadata: {} };
}
