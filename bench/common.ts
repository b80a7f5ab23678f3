// Shared helpers for the benchmarks in bench/: machine description, timing
// with medians and min–max over repeats, table printing.
import { cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';

export function machine(): string {
  let model = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  try {
    const m = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m);
    if (m) model = m[1].trim();
  } catch { /* not Linux */ }
  return `${model}, ${cpus().length} logical CPUs, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version} (V8 ${process.versions.v8}); ${process.platform}/${process.arch}`;
}

export interface Stats { median: number; min: number; max: number; n: number }

export function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

/**
 * Seconds per call of fn: each repeat runs fn enough times to last about
 * `targetMs` (calibrated once), `repeats` repeats, after a warm-up.
 */
export function timeCall(fn: () => void, repeats = 7, targetMs = 40): Stats {
  fn();
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    const dt = performance.now() - t0;
    if (dt >= targetMs / 4 || reps >= 1 << 20) { reps = Math.max(1, Math.round((reps * targetMs) / Math.max(dt, 1e-3))); break; }
    reps *= 4;
  }
  const out: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    out.push((performance.now() - t0) / 1000 / reps);
  }
  return stats(out);
}

export const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
/** "median (min–max)" of a rate derived from seconds: rate = work / seconds. */
export function rate(work: number, s: Stats, d = 1): string {
  return `${fmt(work / s.median, d)} (${fmt(work / s.max, d)}–${fmt(work / s.min, d)})`;
}

export function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(w[i])).join(' | ')} |`;
  return [line(head), `|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
