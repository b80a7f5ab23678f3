// What `tessera validate --data` reads: a model's data facts (example shape,
// classes, dtype) from the files' headers, not their bodies, giving the
// facts the full loaders give (the same source names, so a model that does
// not fit reads the same error). Per format:
//   idx           each file's header (magic, type, dims); a plain file's
//                 length is checked against its dims by its size on disk;
//                 a gzip file has only its first bytes inflated.
//   npz           the zip's central directory and each array's .npy header
//                 (dtype, shape, order); deflated entries inflate their
//                 first chunk only.
//   csv           the first 64 KiB: the header row and the first rows (their
//                 field counts, numbers and labels checked).
//   image_folder  the folder listing: class folders and their image files
//                 (image_size and color_mode give the shape; none decoded).
//   text          read whole (the vocabulary is every character of it).
// Classes: dataset.classes (or a named dataset's) when declared; otherwise
// the label data alone is read to count them (IDX label files, the npz
// label arrays, a CSV's label column over the whole file), never the
// features. What only a full read finds (a label out of range for declared
// classes, a bad value past the first CSV rows, a corrupt gzip body, an
// undecodable image) is reported by train, eval and predict. Node-only.

import { readdir } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { parse } from 'csv-parse/browser/esm/sync';
import { DATASET_FACTS, type ModelSpec } from '../config/types.js';
import { csvColumns, csvExamples, isClassId, parseCsv } from './csv.js';
import { DataError, formatCount } from './errors.js';
import { checkSplits, type SplitSummary } from './facts.js';
import { readRange, readStart, withFile, zipEntries, zipEntryBytes, zipEntryStart } from './file-heads-node.js';
import { checkIdxLength, checkIdxPair, classCount, parseIdxHeader } from './idx.js';
import { IMAGE_EXTENSIONS } from './images.js';
import { loadDataset } from './load-node.js';
import { checkNamedSplit, hasValidationFiles, idxFactNames, idxFiles, isGzip, readIdxFile, type Split } from './node.js';
import { checkLabelHeader, featureHeader, npzLabels } from './npz-dataset.js';
import { checkNpyLength, parseNpy, parseNpyHeader } from './npz.js';
import { csvOptions } from './tabular.js';
import type { DataFacts } from './types.js';

/** The data facts of a model from the headers of its files (see the top of this file for what is read). */
export async function readDataFacts(spec: ModelSpec, baseDir: string): Promise<DataFacts> {
  switch (spec.dataset.format ?? 'idx') {
    case 'idx': return idxFacts(spec, baseDir);
    case 'npz': return npzFacts(spec, baseDir);
    case 'csv': return csvFacts(spec, baseDir);
    case 'image_folder': return imageFolderFacts(spec, baseDir);
    case 'text': return (await loadDataset(spec, baseDir)).facts;
  }
}

/** The test examples test_split holds out of `count` (preprocess.ts splitTest), with its error when none would be left. */
function heldOut(count: number, fraction: number, source: string): number {
  const n = Math.ceil(count * fraction);
  if (n >= count) throw new DataError(source, `${source}: ${count} examples are too few to hold out test_split ${fraction}: nothing would be left to train on`);
  return n;
}

const tooMany = (classes: number, where: string) => {
  if (classes > 256) throw new DataError(where, `${where}: ${formatCount(classes)} classes; at most 256 are supported`);
};

/** An IDX file's dims from its header (a gzip file: from its first decompressed bytes). */
async function idxDims(path: string): Promise<number[]> {
  return withFile(path, async (fh, size) => {
    const first = await readRange(fh, 0, Math.min(size, 4));
    if (isGzip(first)) {
      const head = await readStart(fh, 0, size, 'gzip', path, (b) => b.length >= 4 && b.length >= 4 + 4 * b[3]!);
      return parseIdxHeader(head, path).dims;
    }
    const head = await readRange(fh, 0, Math.min(size, 4 + 4 * 255));
    const { dims, headerLength } = parseIdxHeader(head, path, size);
    checkIdxLength(dims, size - headerLength, path);
    return dims;
  });
}

async function idxFacts(spec: ModelSpec, baseDir: string): Promise<DataFacts> {
  const ds = spec.dataset;
  const named = ds.name !== undefined ? DATASET_FACTS[ds.name] : undefined;
  const files = idxFiles(ds, baseDir);
  const withValidation = hasValidationFiles(ds);
  const splits: Split[] = ['train', 'test', ...(withValidation ? ['validation' as const] : [])];
  const summaries: Partial<Record<Split, SplitSummary>> = {};
  for (const split of splits) {
    const f = files(split);
    const [images, labels] = await Promise.all([idxDims(f.images), idxDims(f.labels)]);
    const { count, shape } = checkIdxPair(images, labels, `${f.images} + ${f.labels}`);
    if (named && !f.explicit) checkNamedSplit(ds, split, f.images, shape, count);
    summaries[split] = { shape, dtype: 'uint8', count };
  }
  const names = idxFactNames(ds, files, withValidation);
  checkSplits(summaries as { train: SplitSummary }, names.names);
  // Undeclared classes are counted from the label files (one byte per example), never the example files.
  const classes = ds.classes ?? named?.classes ?? classCount(...await Promise.all(splits.map(async (s) => (await readIdxFile(files(s).labels)).data)));
  tooMany(classes, names.names.train);
  return {
    source: names.source, inputShape: summaries.train!.shape, classes, dtype: 'uint8', train: summaries.train!.count, test: summaries.test!.count,
    ...(named?.classNames ? { classNames: named.classNames } : {}),
  };
}

async function npzFacts(spec: ModelSpec, baseDir: string): Promise<DataFacts> {
  const path = resolve(baseDir, spec.dataset.path!);
  return withFile(path, async (fh, size) => {
    const entries = new Map((await zipEntries(fh, size, path)).filter((e) => e.name.endsWith('.npy')).map((e) => [e.name.slice(0, -4), e]));
    const need = (name: string) => {
      const e = entries.get(name);
      if (!e) throw new DataError(path, `${path}: no array ${name} (the file holds ${[...entries.keys()].join(', ') || 'no arrays'}); expected x_train, y_train and optionally x_test, y_test, as numpy.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)`);
      return e;
    };
    const header = async (name: string) => {
      const e = need(name), where = `${path}: ${name}.npy`;
      const head = await zipEntryStart(fh, e, where, (b) => b.length >= 12 && b.length >= 10 + (b[6] === 1 ? b[8]! + 256 * b[9]! : new DataView(b.buffer, b.byteOffset + 8, 4).getUint32(0, true) + 2));
      const h = parseNpyHeader(head, where);
      checkNpyLength(h, e.size - h.dataStart, where); // the entry's size from the central directory
      return h;
    };
    const pair = async (x: string, y: string): Promise<SplitSummary> => {
      const f = featureHeader(await header(x), `${path}: ${x}`);
      checkLabelHeader(await header(y), `${path}: ${y}`, f.count);
      return f;
    };
    const train = await pair('x_train', 'y_train');
    if (entries.has('x_test') !== entries.has('y_test')) need(entries.has('x_test') ? 'y_test' : 'x_test');
    const given = entries.has('x_test') ? await pair('x_test', 'y_test') : undefined;
    const testCount = given ? given.count : heldOut(train.count, spec.dataset.test_split ?? 0.2, path);
    checkSplits({ train, test: given ?? { ...train, count: testCount } }, { train: `${path}: x_train`, test: `${path}: x_test`, validation: '' });
    let classes = spec.dataset.classes;
    if (classes === undefined) {
      // Counted from the label arrays alone (read whole), as the loader counts them.
      const ids = async (y: string) => npzLabels(parseNpy(await zipEntryBytes(fh, need(y), `${path}: ${y}.npy`), `${path}: ${y}.npy`, y), `${path}: ${y}`, (y === 'y_train' ? train : given!).count);
      classes = classCount(await ids('y_train'), ...(given ? [await ids('y_test')] : []));
    }
    tooMany(classes, `${path}: x_train`);
    return { source: path, inputShape: train.shape, classes, dtype: train.dtype, train: train.count - (given ? 0 : testCount), test: testCount };
  });
}

/** How much of a CSV file validate reads when the classes need no label scan. */
export const CSV_HEAD_BYTES = 64 * 1024;

/** A CSV file's whole text, or its first whole lines (about CSV_HEAD_BYTES, more until they hold a data row). */
async function csvText(path: string, whole: boolean, header: boolean): Promise<string> {
  return withFile(path, async (fh, size) => {
    for (let n = whole ? size : CSV_HEAD_BYTES; ; n *= 4) {
      const bytes = await readRange(fh, 0, Math.min(size, n));
      if (bytes.length >= size) return new TextDecoder().decode(bytes);
      const text = new TextDecoder().decode(bytes.subarray(0, bytes.lastIndexOf(0x0a) + 1));
      if (text.split('\n').filter((l) => l.trim() !== '').length > (header ? 1 : 0)) return text;
    }
  });
}

/** The whole lines of a text up to about `n` characters (the line holding character n included). */
function firstLines(text: string, n: number): string {
  const end = text.indexOf('\n', n);
  return end < 0 ? text : text.slice(0, end + 1);
}

async function csvFacts(spec: ModelSpec, baseDir: string): Promise<DataFacts> {
  const ds = spec.dataset;
  const o = csvOptions(ds);
  const regression = o.task === 'regression';
  // Without declared classes every row's label is needed: the file is read whole, but only that column is kept.
  const scan = !regression && ds.classes === undefined;
  const paths = ds.path !== undefined ? [resolve(baseDir, ds.path)] : [resolve(baseDir, ds.train_path!), resolve(baseDir, ds.test_path!)];
  const files = [];
  for (const path of paths) {
    const text = await csvText(path, scan, o.header);
    // The header and the first rows: their field counts, feature numbers and labels, as the loader checks every row.
    const head = parseCsv(scan ? firstLines(text, CSV_HEAD_BYTES) : text, path, o);
    files.push({ path, text, head, featureNames: csvExamples(head, o).featureNames });
  }
  const [train, test] = files as [typeof files[0], typeof files[0] | undefined];
  if (test && test.featureNames.join(',') !== train.featureNames.join(',') && ds.header !== false) {
    throw new DataError(test.path, `${test.path}: the feature columns (${test.featureNames.join(', ')}) differ from the training file's (${train.featureNames.join(', ')})`);
  }
  const inputShape = [train.featureNames.length];
  if (regression) return { source: train.path, inputShape, classes: 1, targetWidth: 1, dtype: 'float32' };
  if (!scan) return { source: train.path, inputShape, classes: ds.classes!, dtype: 'float32' };
  const labels = files.map((f) => csvLabelColumn(f.text, f.path, o, csvColumns(f.head, o).labelCol, f.head.columns.length));
  const counts = test ? { train: labels[0]!.length, test: labels[1]!.length } : (() => {
    const held = heldOut(labels[0]!.length, ds.test_split ?? 0.2, train.path);
    return { train: labels[0]!.length - held, test: held };
  })();
  const trainLabels = labels[0]!.map((l) => l.label);
  if (trainLabels.every(isClassId)) {
    return { source: train.path, inputShape, classes: classCount(...labels.map((l) => Uint8Array.from(l, (x) => Number(x.label)))), dtype: 'float32', ...counts };
  }
  const classNames = [...new Set(trainLabels)].sort();
  tooMany(classNames.length, train.path);
  const unseen = labels[1]?.find((l) => !classNames.includes(l.label));
  if (unseen) throw new DataError(test!.path, `${test!.path}: row ${unseen.line}: label '${unseen.label}' is not one of the training set's classes (${classNames.join(', ')})`);
  return { source: train.path, inputShape, classes: classNames.length, dtype: 'float32', classNames, ...counts };
}

/** Every data row's label field and line, parsed by csv-parse keeping only that field; a ragged row is an error with its line, as parseCsv words it. */
function csvLabelColumn(text: string, path: string, o: ReturnType<typeof csvOptions>, labelCol: number, width: number): Array<{ label: string; line: number }> {
  let rows: string[][];
  try {
    rows = parse(text, {
      delimiter: o.delimiter, relax_column_count: true, skip_empty_lines: true, trim: true, bom: true,
      // Each record shrinks to [field count, label, line] as it is read.
      on_record: (r, ctx) => [String(r.length), r[labelCol] ?? '', String(ctx.lines)],
    });
  } catch (e) {
    const err = e as Error & { lines?: number };
    throw new DataError(path, `${path}${err.lines ? `: row ${err.lines}` : ''}: not valid CSV: ${err.message.replace(/^Invalid \w+: /, '')}`);
  }
  for (const [count, , line] of rows) {
    const n = Number(count);
    if (n !== width) throw new DataError(path, `${path}: row ${line} has ${n} field${n === 1 ? '' : 's'}, the ${o.header ? 'header' : 'first row'} has ${width}`);
  }
  return (o.header ? rows.slice(1) : rows).map(([, label, line]) => ({ label: label!, line: Number(line) }));
}

/** A folder's class subfolders and the number of images in each, from the listing alone. */
async function listFolder(dir: string, classNames?: string[]): Promise<{ classNames: string[]; images: number }> {
  const entries = async (d: string) => {
    try {
      return await readdir(d, { withFileTypes: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new DataError(d, `cannot read the image folder ${d}: ${code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'not a folder' : code ?? String(e)}`);
    }
  };
  const subdirs = (await entries(dir)).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  if (subdirs.length === 0) throw new DataError(dir, `${dir}: no class subfolders; an image folder holds one subfolder of images per class`);
  if (classNames) {
    const unknown = subdirs.filter((s) => !classNames.includes(s));
    if (unknown.length) throw new DataError(dir, `${dir}: class folder${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} not among the training classes (${classNames.join(', ')})`);
  }
  const names = classNames ?? subdirs;
  tooMany(names.length, dir);
  let images = 0;
  for (const sub of subdirs) {
    const n = (await entries(join(dir, sub))).filter((e) => e.isFile() && IMAGE_EXTENSIONS.includes(extname(e.name).toLowerCase())).length;
    if (n === 0) throw new DataError(join(dir, sub), `${join(dir, sub)}: the class folder '${sub}' has no PNG or JPEG files`);
    images += n;
  }
  return { classNames: names, images };
}

async function imageFolderFacts(spec: ModelSpec, baseDir: string): Promise<DataFacts> {
  const ds = spec.dataset;
  const [h, w] = (ds.image_size ?? [256, 256]) as [number, number];
  const path = resolve(baseDir, ds.path!);
  const train = await listFolder(path);
  const test = ds.test_path !== undefined ? (await listFolder(resolve(baseDir, ds.test_path), train.classNames)).images : heldOut(train.images, ds.test_split ?? 0.2, path);
  return {
    source: path, inputShape: [h, w, (ds.color_mode ?? 'grayscale') === 'rgb' ? 3 : 1], classes: ds.classes ?? train.classNames.length, dtype: 'uint8',
    classNames: train.classNames, train: ds.test_path !== undefined ? train.images : train.images - test, test,
  };
}
