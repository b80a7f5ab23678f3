// `tessera train --history FILE --plot FILE`: the run's per-epoch metrics as
// Keras-style History JSON and as an SVG chart. Both are written atomically
// (a temporary file, then rename), so an interrupted write never leaves half
// a file, and both are written however the run ends (finished, stopped
// early, interrupted or failed) with the epochs it finished.

import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DataError } from '../data/errors.js';
import type { HistoryRecorder } from '../runtime/history.js';
import { historySvg } from '../runtime/plot-svg.js';

/** Writes `text` to `path` through `<path>.tmp-<pid>` and a rename. */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await mkdir(dirname(path), { recursive: true });
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    const e = err as NodeJS.ErrnoException;
    throw new DataError(path, `cannot write ${path}: ${e.code ?? e.message}`);
  }
}

export interface HistoryFiles { history?: string; plot?: string }

/** Writes the files asked for; returns one line per file for people. */
export async function writeHistoryFiles(recorder: HistoryRecorder, files: HistoryFiles): Promise<string[]> {
  const h = recorder.toJSON();
  const n = `${h.epoch.length} epoch${h.epoch.length === 1 ? '' : 's'}`;
  const lines: string[] = [];
  if (files.history) {
    await writeTextAtomic(files.history, `${JSON.stringify(h, null, 2)}\n`);
    lines.push(`wrote the history (${n}) to ${files.history}`);
  }
  if (files.plot) {
    await writeTextAtomic(files.plot, historySvg(h));
    lines.push(`wrote the plot (${n}) to ${files.plot}`);
  }
  return lines;
}
