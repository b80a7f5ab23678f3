// Reading a text corpus in Node: one file, a list of files, or a folder of
// files (its regular files in name order, skipping the binary index files
// .dat and the .u8 links of Debian's fortunes package, which hold the
// example corpus). A missing corpus names the package to install.

import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { ModelSpec } from '../config/types.js';
import { DataError } from './errors.js';
import type { LoadedData } from './node.js';
import type { DataMetadata } from './preprocess.js';
import { textDataset } from './text.js';

/** Where Debian's `fortunes` package puts its plain-text fortune files. */
export const FORTUNES_DIR = '/usr/share/games/fortunes';

function filesOf(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => !f.endsWith('.dat') && !f.endsWith('.u8') && !f.startsWith('.'))
    .map((f) => join(path, f))
    .filter((f) => lstatSync(f).isFile())
    .sort();
}

/** The corpus text: the files of every path (relative to baseDir), concatenated in order. */
export function readTextCorpus(paths: readonly string[], baseDir: string): { text: string; files: string[] } {
  const files: string[] = [];
  for (const p of paths) {
    const full = isAbsolute(p) ? p : resolve(baseDir, p);
    try {
      files.push(...filesOf(full));
    } catch {
      const hint = full.startsWith(FORTUNES_DIR) ? ` (install it with: apt-get install fortunes)` : '';
      throw new DataError(full, `${full}: text corpus not found${hint}`);
    }
  }
  if (!files.length) throw new DataError(paths.join(', '), `${paths.join(', ')}: no text files found`);
  return { text: files.map((f) => readFileSync(f, 'utf8')).join(''), files };
}

/**
 * format: text: the corpus as windows of sequence_length ids (src/data/text.ts);
 * the last test_split of the windows (default 0.1: the end of the corpus,
 * unshuffled, so no test window overlaps a training one) is the test set.
 * The vocabulary is the training text's, or the one saved with the weights.
 */
export async function loadText(spec: ModelSpec, baseDir: string, options: { saved?: DataMetadata }): Promise<LoadedData> {
  const ds = spec.dataset;
  const { text, files } = readTextCorpus(ds.paths ?? [ds.path!], baseDir);
  const source = files.length === 1 ? files[0]! : `${files.length} files in ${ds.paths?.join(', ') ?? ds.path}`;
  const { train, test, vocabulary, facts, summary } = textDataset(text, ds.sequence_length!, ds.test_split ?? 0.1, source, options.saved?.vocabulary);
  return {
    train,
    test,
    source: `${source} (${summary})`,
    facts,
    metadata: { vocabulary },
  };
}
