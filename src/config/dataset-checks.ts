// Checks of the `dataset:` settings that the schema cannot state: a named
// dataset or a format with its files, and only the keys that the format
// reads (a `label:` under format: idx would silently do nothing).
// Browser-safe.

import type { ConfigErrorCode } from './errors.js';
import type { Target } from './locate.js';
import type { DatasetFormat, DatasetSpec, ModelSpec } from './types.js';

type At = (path: (string | number)[], target: Target, code: ConfigErrorCode, message: string, hint?: string) => void;

const IDX_KEYS = ['train_images', 'train_labels', 'test_images', 'test_labels', 'validation_images', 'validation_labels'] as const;
const CSV_KEYS = ['label', 'features', 'header', 'delimiter', 'task', 'normalize'] as const;

/** The keys each format reads, beyond format, classes and name. */
const KEYS: Record<DatasetFormat, readonly string[]> = {
  idx: IDX_KEYS,
  csv: ['path', 'train_path', 'test_path', 'test_split', ...CSV_KEYS],
  npz: ['path', 'test_split'],
  image_folder: ['path', 'test_path', 'test_split', 'image_size', 'color_mode'],
  text: ['path', 'paths', 'sequence_length', 'test_split'],
};
/** Keys with schema defaults: present in every validated spec, so only a non-default value is the user's. */
const DEFAULTS: Record<string, unknown> = { header: true, delimiter: ',', task: 'classification', normalize: 'none', test_split: 0.2, color_mode: 'grayscale' };

/** Whether the user wrote a key (not only the schema's default). */
function given(ds: DatasetSpec, key: string, text?: (key: string) => boolean): boolean {
  const v = (ds as Record<string, unknown>)[key];
  if (v === undefined) return false;
  if (text) return text(key);
  if (key === 'image_size') return JSON.stringify(v) !== '[256,256]';
  return !(key in DEFAULTS) || DEFAULTS[key] !== v;
}

/**
 * Reports each problem through `at`. `written(key)` tells whether the
 * document has the key under dataset: (so a key equal to its default is
 * still reported when it does not apply).
 */
export function checkDataset(spec: ModelSpec, at: At, written?: (key: string) => boolean): void {
  const ds = spec.dataset;
  const format = ds.format ?? 'idx';
  const has = (k: string) => given(ds, k, written);
  if (ds.name !== undefined && format !== 'idx') {
    at(['dataset', 'format'], 'value', 'schema', `dataset.name ${ds.name} is an IDX dataset; format ${format} needs files instead`, 'remove name to read your own files, or remove format to use the named dataset');
    return;
  }
  for (const key of Object.keys(ds)) {
    if (key === 'name' || key === 'format' || key === 'classes' || KEYS[format].includes(key) || !has(key)) continue;
    const owners = (Object.keys(KEYS) as DatasetFormat[]).filter((f) => KEYS[f].includes(key));
    at(['dataset', key], 'key', 'schema', `dataset.${key} does not apply to format ${format}`, `it is read by format ${owners.join(' and ')}; remove it, or set format: ${owners[0]}`);
  }
  if (format === 'idx') {
    if (ds.name === undefined && (ds.train_images === undefined || ds.test_images === undefined)) {
      const missing = ds.train_images === undefined ? 'train_images' : 'test_images';
      at(['dataset'], 'key', 'missing-key', `dataset has no name and no ${missing}: give a named dataset or the four IDX files`,
        'add name: mnist (or fashion_mnist), or train_images, train_labels, test_images and test_labels, or another format (csv, npz, image_folder) with its path');
    }
    return;
  }
  if (format === 'csv') {
    if (ds.path !== undefined && (ds.train_path !== undefined || ds.test_path !== undefined)) {
      at(['dataset', 'path'], 'key', 'schema', 'dataset.path and train_path/test_path both name the CSV data', 'keep path (the test set is held out by test_split) or train_path and test_path');
    } else if (ds.path === undefined && (ds.train_path === undefined || ds.test_path === undefined)) {
      at(['dataset'], 'key', 'missing-key', `format csv needs path, or train_path and test_path`, 'add path: <file.csv> (relative to the model file)');
    }
    if (has('test_split') && ds.path === undefined) at(['dataset', 'test_split'], 'key', 'schema', 'dataset.test_split applies only with path (train_path and test_path are already split)');
    return;
  }
  if (format === 'text') {
    if ((ds.path === undefined) === (ds.paths === undefined)) at(['dataset'], 'key', 'missing-key', 'format text needs path or paths (one of them)', 'add path: <file or folder of text> (relative to the model file)');
    if (ds.sequence_length === undefined) at(['dataset'], 'key', 'missing-key', 'format text needs sequence_length, the characters per window', 'add sequence_length: 64');
    return;
  }
  if (ds.path === undefined) at(['dataset'], 'key', 'missing-key', `format ${format} needs path`, `add path: <${format === 'npz' ? 'file.npz' : 'folder of class subfolders'}> (relative to the model file)`);
}
