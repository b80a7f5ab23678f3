// Small text helpers for CLI output, shared by all commands.

/** 101770 -> "101,770" (fixed ',' separator: output must not depend on the locale). */
export function formatInt(n: number): string {
  const sign = n < 0 ? '-' : '';
  return sign + String(Math.trunc(Math.abs(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Milliseconds as a short human duration: "850ms", "4.2s", "42s", "1m 23s", "2h 05m". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.round(s)}s`;
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : `${m}m ${String(sec).padStart(2, '0')}s`;
}

/** A batchless shape as Keras prints it: [128] -> "(None, 128)". */
export function formatShape(shape: readonly number[]): string {
  return `(None, ${shape.join(', ')})`;
}

export type Align = 'left' | 'right';

export interface TableOptions {
  /** Column alignment; by default columns whose cells all look numeric are right-aligned. */
  align?: Align[];
  /** Spaces before each row. */
  indent?: number;
  /** Spaces between columns. */
  gap?: number;
}

const ANSI = /\x1b\[[0-9;]*m/g;
const visibleLength = (s: string) => s.replace(ANSI, '').length;
const looksNumeric = (s: string) => /^[-+]?[\d,]+(\.\d+)?%?$/.test(s);

/** Renders rows (the first one a header if `header` is given) as aligned columns, without trailing spaces. */
export function renderTable(rows: readonly (readonly string[])[], header?: readonly string[], options: TableOptions = {}): string {
  const all = header ? [header, ...rows] : [...rows];
  const cols = Math.max(0, ...all.map((r) => r.length));
  const widths = Array.from({ length: cols }, (_, c) => Math.max(0, ...all.map((r) => visibleLength(r[c] ?? ''))));
  const align =
    options.align ??
    Array.from({ length: cols }, (_, c): Align => {
      const cells = rows.map((r) => r[c] ?? '').filter((s) => s !== '');
      return cells.length > 0 && cells.every(looksNumeric) ? 'right' : 'left';
    });
  const pad = ' '.repeat(options.indent ?? 0);
  const gap = ' '.repeat(options.gap ?? 2);
  return all
    .map((r) => {
      const cells = Array.from({ length: cols }, (_, c) => {
        const cell = r[c] ?? '';
        const fill = ' '.repeat(widths[c]! - visibleLength(cell));
        return align[c] === 'right' ? fill + cell : cell + fill;
      });
      return (pad + cells.join(gap)).replace(/\s+$/, '');
    })
    .join('\n');
}

/** Whether a stream is an interactive terminal (progress bars, colours). */
export function isTTY(stream: { isTTY?: boolean } = process.stdout): boolean {
  return stream.isTTY === true;
}

/** Colour on a terminal unless NO_COLOR is set; FORCE_COLOR forces it (https://no-color.org). */
export function useColor(stream: { isTTY?: boolean } = process.stdout): boolean {
  if (process.env.NO_COLOR) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return isTTY(stream);
}

/** "1 file", "3 files". */
export function plural(n: number, noun: string, many = `${noun}s`): string {
  return `${formatInt(n)} ${n === 1 ? noun : many}`;
}
