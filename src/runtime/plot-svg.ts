// A run's history (history.ts) as an SVG chart, written by hand (no
// plotting dependency): one panel per quantity (loss, then each metric)
// against the epoch, the training curve solid and the validation curve
// dashed, each panel with ticked and labelled axes and a legend.
// Browser-safe: a page could show the same string.

import type { HistoryJson } from './history.js';

const PANEL = { width: 440, height: 320, left: 64, right: 20, top: 60, bottom: 48 };
const COLORS = { train: '#2f6fde', validation: '#e07b00', grid: '#e6e8ee', axis: '#4a5060', text: '#2b2f38' };
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

/** About `target` round tick values (1, 2 or 5 times a power of ten) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo)) [lo, hi] = [lo - 0.5, hi + 0.5];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const f = (x: number) => x.toFixed(1);

interface Series { label: string; color: string; dashed: boolean; ys: number[] }

/** One panel at (x0, y0): axes, ticks, grid, the curves with dots, and a legend. */
function panel(x0: number, y0: number, title: string, epochs: number[], series: Series[], percent: boolean): string {
  const { width, height, left, right, top, bottom } = PANEL;
  const pw = width - left - right, ph = height - top - bottom;
  const values = series.flatMap((s) => s.ys).filter(Number.isFinite);
  let lo = Math.min(...values), hi = Math.max(...values);
  const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.05 || 0.05;
  lo -= pad; hi += pad;
  if (percent) { lo = Math.max(0, lo); hi = Math.min(1, hi); }
  const yTicks = niceTicks(lo, hi);
  [lo, hi] = [Math.min(lo, yTicks[0]!), Math.max(hi, yTicks.at(-1)!)];
  const first = epochs[0] ?? 1, last = epochs.at(-1) ?? 1;
  const [xlo, xhi] = last > first ? [first, last] : [first - 1, first + 1];
  const xTicks = niceTicks(xlo, xhi, Math.min(8, Math.max(2, last - first))).filter((t) => Number.isInteger(t) && t >= xlo && t <= xhi);
  const X = (e: number) => x0 + left + ((e - xlo) / (xhi - xlo)) * pw;
  const Y = (v: number) => y0 + top + (1 - (v - lo) / (hi - lo)) * ph;
  // One number of decimals per axis, from the tick step, so the labels line up.
  const step = yTicks.length > 1 ? yTicks[1]! - yTicks[0]! : 1;
  const decimals = Math.max(0, -Math.floor(Math.log10((percent ? 100 : 1) * step) + 1e-9));
  const yLabel = (v: number) => (percent ? `${(100 * v).toFixed(decimals)}%` : v.toFixed(decimals));

  const out: string[] = [`<g class="panel" data-quantity="${esc(title)}">`];
  out.push(`<text x="${f(x0 + left + pw / 2)}" y="${f(y0 + 24)}" text-anchor="middle" font-size="15" font-weight="bold" fill="${COLORS.text}" ${FONT}>${esc(title)}</text>`);
  for (const t of yTicks) {
    out.push(`<line x1="${f(x0 + left)}" x2="${f(x0 + left + pw)}" y1="${f(Y(t))}" y2="${f(Y(t))}" stroke="${COLORS.grid}"/>`);
    out.push(`<text x="${f(x0 + left - 6)}" y="${f(Y(t) + 4)}" text-anchor="end" font-size="11" fill="${COLORS.text}" ${FONT}>${yLabel(t)}</text>`);
  }
  for (const t of xTicks) {
    out.push(`<line x1="${f(X(t))}" x2="${f(X(t))}" y1="${f(y0 + top + ph)}" y2="${f(y0 + top + ph + 5)}" stroke="${COLORS.axis}"/>`);
    out.push(`<text x="${f(X(t))}" y="${f(y0 + top + ph + 18)}" text-anchor="middle" font-size="11" fill="${COLORS.text}" ${FONT}>${t}</text>`);
  }
  out.push(`<path d="M${f(x0 + left)},${f(y0 + top)}V${f(y0 + top + ph)}H${f(x0 + left + pw)}" fill="none" stroke="${COLORS.axis}"/>`);
  out.push(`<text x="${f(x0 + left + pw / 2)}" y="${f(y0 + height - 8)}" text-anchor="middle" font-size="12" fill="${COLORS.text}" ${FONT}>epoch</text>`);
  out.push(`<text transform="translate(${f(x0 + 14)},${f(y0 + top + ph / 2)}) rotate(-90)" text-anchor="middle" font-size="12" fill="${COLORS.text}" ${FONT}>${esc(title)}</text>`);
  for (const s of series) {
    const pts = s.ys.map((v, i) => [epochs[i]!, v] as const).filter(([, v]) => Number.isFinite(v));
    const d = pts.map(([e, v], i) => `${i === 0 ? 'M' : 'L'}${f(X(e))},${f(Y(v))}`).join('');
    out.push(`<g class="series" data-label="${esc(s.label)}">`);
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    for (const [e, v] of pts) out.push(`<circle cx="${f(X(e))}" cy="${f(Y(v))}" r="3" fill="${s.color}"/>`);
    out.push('</g>');
  }
  // The legend sits in a row between the title and the plot, clear of the curves.
  series.forEach((s, i) => {
    const ly = y0 + 42, lx = x0 + left + i * 150;
    out.push(`<line x1="${f(lx)}" x2="${f(lx + 22)}" y1="${f(ly)}" y2="${f(ly)}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(`<text x="${f(lx + 28)}" y="${f(ly + 4)}" font-size="11" fill="${COLORS.text}" ${FONT}>${esc(s.label)}</text>`);
  });
  out.push('</g>');
  return out.join('\n');
}

/** The chart of a history: a panel for the loss and one per metric, side by side. */
export function historySvg(h: HistoryJson): string {
  const notPlotted = ['learning_rate', 'seconds'];
  const quantities = Object.keys(h.history).filter((n) => !n.startsWith('val_') && !notPlotted.includes(n)).map((name) => ({ name, percent: name.endsWith('accuracy') }));
  const panels = quantities.map((q, i) => {
    const series: Series[] = [{ label: `training ${q.name}`, color: COLORS.train, dashed: false, ys: h.history[q.name]! }];
    const val = h.history[`val_${q.name}`];
    if (val) series.push({ label: `validation ${q.name}`, color: COLORS.validation, dashed: true, ys: val });
    return panel(i * PANEL.width, 24, q.name, h.epoch, series, q.percent);
  });
  const width = PANEL.width * quantities.length, height = PANEL.height + 24;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="12" y="18" font-size="13" fill="${COLORS.text}" ${FONT}>${esc(`${h.model}: ${h.epoch.length} epoch${h.epoch.length === 1 ? '' : 's'}`)}</text>`,
    ...panels,
    '</svg>',
    '',
  ].join('\n');
}
