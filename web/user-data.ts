// The page's own data: a CSV or .npz file dropped on the page or chosen
// with "Data file…", standing in for the path the YAML's dataset names
// (format: csv or npz). The bytes are kept; the dataset is made from them by
// the library's tabular.ts, the code the CLI runs on the same file, so the
// same YAML and seed give the page the CLI's rows, split and statistics.
// The result is cached per file and dataset section, so validating as one
// types does not parse the file again. A bad file is a DataError naming the
// file and its row or entry, shown in the editor's error list.

import * as tessera from '../src/browser.js';
import type { DataError, LoadedData, ModelSpec } from '../src/browser.js';
import { ui } from './ui.js';

interface DroppedFile { name: string; bytes: Uint8Array }

/** The files the user gave, newest last (train_path and test_path pick theirs by name). */
let files: DroppedFile[] = [];
/** Bumped with every new set of files, so cached datasets know they are stale. */
let generation = 0;
let cache: { key: string; outcome: DataOutcome } | null = null;

/** What the page's data is for a model: a dataset, a data error, or what to do (no file yet). */
export type DataOutcome = { data: LoadedData; key: string } | { error: DataError | Error } | { missing: string };

export const TABULAR_FORMATS = ['csv', 'npz'] as const;
export const isTabular = (spec: ModelSpec) => (TABULAR_FORMATS as readonly string[]).includes(spec.dataset.format ?? 'idx');

/** The names of the files the page holds (for the state tests read). */
export const dataFileNames = () => files.map((f) => f.name);

const baseName = (path: string) => path.split(/[\\/]/).pop() ?? path;

/** The dropped file that stands for a dataset path: the only one, or the one with the path's file name. */
function fileFor(path: string, key: string): DroppedFile | string {
  const want = baseName(path);
  const named = files.filter((f) => f.name === want);
  if (named.length > 0) return named.at(-1)!;
  if (files.length === 1 && key === 'path') return files[0]!;
  return `dataset.${key} is ${path}: drop ${want} on the page or choose it with "Data file…"${files.length ? ` (the page has ${files.map((f) => f.name).join(', ')})` : ''}`;
}

function checkKind(f: DroppedFile, format: string): void {
  const isZip = f.bytes[0] === 0x50 && f.bytes[1] === 0x4b; // "PK": a zip archive, as .npz files are
  if (format === 'npz' && !isZip) throw new tessera.DataError(f.name, `${f.name}: not an .npz file (a zip archive of .npy arrays), but dataset.format is npz`);
  if (format === 'csv' && (isZip || /\.npz$/i.test(f.name))) throw new tessera.DataError(f.name, `${f.name}: an .npz archive, but dataset.format is csv: set format: npz`);
}

/** The dataset from the held files, or what is missing, in words. */
function build(spec: ModelSpec): LoadedData | string {
  const ds = spec.dataset;
  const text = (f: DroppedFile) => ({ name: f.name, text: new TextDecoder('utf-8').decode(f.bytes) });
  if (ds.format === 'npz' || ds.path !== undefined) {
    const f = fileFor(ds.path ?? '', 'path');
    if (typeof f === 'string') return f;
    checkKind(f, ds.format!);
    return ds.format === 'npz' ? tessera.npzDataset(spec, f.bytes, f.name) : tessera.csvDataset(spec, { path: text(f) });
  }
  const train = fileFor(ds.train_path ?? '', 'train_path'), test = fileFor(ds.test_path ?? '', 'test_path');
  if (typeof train === 'string') return train;
  if (typeof test === 'string') return test;
  checkKind(train, 'csv');
  checkKind(test, 'csv');
  return tessera.csvDataset(spec, { train: text(train), test: text(test) });
}

/**
 * The page's dataset for a model of format csv or npz, made once per set of
 * files and dataset section (and seed, which picks the test rows).
 */
export function pageData(spec: ModelSpec): DataOutcome {
  const key = `${generation} ${spec.seed} ${JSON.stringify(spec.dataset)}`;
  if (cache?.key === key) return cache.outcome;
  let outcome: DataOutcome;
  try {
    const built = build(spec);
    outcome = typeof built === 'string' ? { missing: built } : { data: built, key };
  } catch (e) {
    outcome = { error: e as Error };
  }
  cache = { key, outcome };
  return outcome;
}

/** Takes the user's files (a drop or the file input): CSV and .npz files replace the ones held. */
export async function setDataFiles(list: FileList | File[], onChange: () => void): Promise<void> {
  const chosen = [...list].filter((f) => /\.(csv|npz)$/i.test(f.name));
  if (chosen.length === 0) {
    ui.dataFileStatus.textContent = `${[...list].map((f) => f.name).join(', ') || 'nothing'}: the page takes .csv or .npz data files`;
    ui.dataFileStatus.classList.add('bad');
    return;
  }
  files = await Promise.all(chosen.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
  generation++;
  cache = null;
  ui.dataFileStatus.classList.remove('bad');
  ui.dataFileStatus.textContent = files.map((f) => `${f.name} (${f.bytes.length.toLocaleString('en-US')} bytes)`).join(', ');
  onChange();
}

/** The file input and dropping files anywhere on the page. */
export function installDataDrop(onChange: () => void): void {
  ui.dataFile.addEventListener('change', () => {
    const list = ui.dataFile.files;
    if (list?.length) void setDataFiles(list, onChange).finally(() => { ui.dataFile.value = ''; });
  });
  document.addEventListener('dragover', (ev) => {
    if (!ev.dataTransfer?.types.includes('Files')) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = 'copy';
    ui.dataDrop.classList.add('over');
  });
  document.addEventListener('dragleave', () => ui.dataDrop.classList.remove('over'));
  document.addEventListener('drop', (ev) => {
    ui.dataDrop.classList.remove('over');
    const list = ev.dataTransfer?.files;
    if (!list?.length) return;
    ev.preventDefault();
    void setDataFiles(list, onChange);
  });
}

/** The dataset a validated csv or npz model trains on (validation has made it; a missing or bad file throws its message). */
export function pageDataset(spec: ModelSpec): LoadedData {
  const outcome = pageData(spec);
  if ('data' in outcome) return outcome.data;
  throw 'error' in outcome ? outcome.error : new Error(outcome.missing);
}
