// The loss and accuracy plots: the step window's means as a thin line, the
// epoch means, the validation results (when the model has validation data)
// and the test results as dots, on canvases redrawn from
// state.chunks and state.epochs (cheap enough to redraw whole).

import { state } from './state.js';
import { ui } from './ui.js';

const COLORS = { step: '#2f6fde', epoch: '#e07b00', val: '#8e44ad', test: '#1f8a4c', grid: '#e8eaf0', text: '#6b7385' };

/** Redraws both plots with an x axis of `totalSteps` steps. */
export function drawPlots(totalSteps: number): void {
  const epochX = state.epochs.map((e) => e.step);
  drawPlot(ui.lossPlot, 'loss', totalSteps, [
    { color: COLORS.step, xs: state.chunks.map((c) => c.step), ys: state.chunks.map((c) => c.loss), dots: false },
    { color: COLORS.epoch, xs: epochX, ys: state.epochs.map((e) => e.loss), dots: true },
    { color: COLORS.val, xs: epochX, ys: state.epochs.map((e) => e.valLoss ?? NaN), dots: true },
    { color: COLORS.test, xs: epochX, ys: state.epochs.map((e) => e.testLoss ?? NaN), dots: true },
  ], false);
  drawPlot(ui.accPlot, 'accuracy', totalSteps, [
    { color: COLORS.step, xs: state.chunks.map((c) => c.step), ys: state.chunks.map((c) => c.accuracy), dots: false },
    { color: COLORS.epoch, xs: epochX, ys: state.epochs.map((e) => e.accuracy), dots: true },
    { color: COLORS.val, xs: epochX, ys: state.epochs.map((e) => e.valAccuracy ?? NaN), dots: true },
    { color: COLORS.test, xs: epochX, ys: state.epochs.map((e) => e.testAccuracy ?? NaN), dots: true },
  ], true);
}

/** The smallest of 1, 1.2, 1.6, 2, 2.4, 3.2, 4, 6, 8 × 10^k at or above x: divisible into 4 round grid steps. */
function niceCeil(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  return [1, 1.2, 1.6, 2, 2.4, 3.2, 4, 6, 8, 10].map((m) => m * p).find((v) => v >= x * 0.999) ?? 10 * p;
}

interface Series { color: string; xs: number[]; ys: number[]; dots: boolean }

function drawPlot(canvas: HTMLCanvasElement, title: string, totalSteps: number, series: Series[], isAccuracy: boolean): void {
  const dpr = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || canvas.width, cssH = Math.round((cssW * 200) / 520);
  if (canvas.width !== Math.round(cssW * dpr)) { canvas.width = Math.round(cssW * dpr); canvas.height = Math.round(cssH * dpr); }
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const W = canvas.width / dpr, H = canvas.height / dpr;
  ctx.clearRect(0, 0, W, H);
  const L = 44, R = 10, T = 16, B = 22;
  const all = series.flatMap((s) => s.ys).filter(Number.isFinite);
  let lo: number, hi: number;
  if (isAccuracy) {
    lo = all.length ? Math.max(0, Math.floor(Math.min(...all) * 5) / 5) : 0; // 4 steps of 5 or 10 points
    hi = 1;
  } else {
    lo = 0;
    hi = niceCeil(all.length ? Math.max(...all) * 1.05 : 1);
  }
  const maxX = Math.max(1, totalSteps);
  const px = (x: number) => L + ((W - L - R) * x) / maxX;
  const py = (y: number) => T + (H - T - B) * (1 - (y - lo) / (hi - lo || 1));
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = COLORS.text;
  ctx.strokeStyle = COLORS.grid;
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let i = 0; i <= 4; i++) {
    const y = lo + ((hi - lo) * i) / 4;
    ctx.beginPath();
    ctx.moveTo(L, Math.round(py(y)) + 0.5);
    ctx.lineTo(W - R, Math.round(py(y)) + 0.5);
    ctx.stroke();
    ctx.fillText(isAccuracy ? `${Math.round(100 * y)}%` : String(Number(y.toPrecision(3))), L - 6, py(y));
  }
  ctx.textAlign = 'left';
  ctx.textBaseline = 'top';
  ctx.fillText(title, L + 4, 2);
  ctx.textAlign = 'right';
  ctx.fillText(`step ${state.chunks.at(-1)?.step ?? 0} / ${totalSteps}`, W - R, H - B + 6);
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.lineWidth = s.dots ? 2 : 1.5;
    ctx.beginPath();
    let started = false;
    s.xs.forEach((x, i) => {
      const y = s.ys[i];
      if (!Number.isFinite(y)) return;
      if (started) ctx.lineTo(px(x), py(y));
      else { ctx.moveTo(px(x), py(y)); started = true; }
    });
    ctx.stroke();
    if (s.dots) s.xs.forEach((x, i) => {
      if (!Number.isFinite(s.ys[i])) return;
      ctx.beginPath();
      ctx.arc(px(x), py(s.ys[i]), 3.5, 0, 2 * Math.PI);
      ctx.fill();
    });
  }
}
