// `tessera train --history FILE --plot FILE`: the run's per-epoch metrics as
// Keras-style History JSON and as an SVG chart. Both are written atomically
// (writeFileAtomic, as weights are: a temporary file, then rename), so an
// interrupted write never leaves half a file, and both are written however
// the run ends (finished, stopped early, interrupted or failed) with the
// epochs it finished.

import { writeFileAtomic } from '../data/weights-node.js';
import type { HistoryRecorder } from '../runtime/history.js';
import { historySvg } from '../runtime/plot-svg.js';

export interface HistoryFiles { history?: string; plot?: string }

/** Writes the files asked for; returns one line per file for people. */
export async function writeHistoryFiles(recorder: HistoryRecorder, files: HistoryFiles): Promise<string[]> {
  const h = recorder.toJSON();
  const n = `${h.epoch.length} epoch${h.epoch.length === 1 ? '' : 's'}`;
  const lines: string[] = [];
  if (files.history) {
    await writeFileAtomic(files.history, `${JSON.stringify(h, null, 2)}\n`);
    lines.push(`wrote the history (${n}) to ${files.history}`);
  }
  if (files.plot) {
    await writeFileAtomic(files.plot, historySvg(h));
    lines.push(`wrote the plot (${n}) to ${files.plot}`);
  }
  return lines;
}
