// The demo page: edit a model YAML (validated as you type, errors with
// line:column), train it on WebGPU or WASM with live plots, evaluate on the
// test set, draw a digit and see the prediction, load and download weights.
//
// Bundled by scripts/build-browser.mjs into dist/web/app.js, which imports
// the library bundle (./tessera.js) at run time rather than inlining it, so
// the page exercises the same file a user would import.
//
// URL parameters (for people and for test/browser.test.ts):
//   ?limit=2000      train on the first 2000 training examples only
//   ?test=1000       evaluate on the first 1000 test examples only
//   ?epochs=1        epochs (default: the YAML's training.epochs)
//   ?backend=wasm    force a backend (auto | webgpu | wasm | js); default: the YAML's
//   ?every=8         steps per progress update (plot point)
//   ?model=mnist     which models/<name>.yaml to load into the editor
//
// window.__app exposes the page's state and a few actions for tests.

import * as tessera from '../src/browser.js';
import type { Backend, BackendKind, ConfigError, DatasetTensors, Model, ModelEvent, ValidationResult } from '../src/browser.js';

// ------------------------------------------------------------------ state

interface ChunkPoint { step: number; loss: number; accuracy: number; epoch: number }
interface EpochPoint { epoch: number; step: number; loss: number; accuracy: number; testLoss?: number; testAccuracy?: number }

const params = new URLSearchParams(location.search);
const intParam = (name: string): number | undefined => {
  const v = params.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? n : undefined;
};
const options = {
  limit: intParam('limit'),
  testLimit: intParam('test'),
  epochs: intParam('epochs'),
  every: intParam('every'),
  backend: (params.get('backend') ?? undefined) as BackendKind | undefined,
  model: (params.get('model') ?? 'mnist').replace(/[^\w.-]/g, ''),
};

const state = {
  options,
  /** 'probing' until the backend is known, then the backend's name. */
  backend: null as null | { name: string; description: string; reason: string; line: string },
  validation: null as null | { ok: boolean; errors: { line: number; column: number; message: string; code: string }[] },
  status: 'idle' as 'idle' | 'loading' | 'training' | 'evaluating' | 'done' | 'stopped' | 'error',
  error: null as string | null,
  chunks: [] as ChunkPoint[],
  epochs: [] as EpochPoint[],
  test: null as null | { loss: number; accuracy: number },
  prediction: null as null | { digit: number; probs: number[] },
  weights: null as null | { source: string },
  trainings: 0,
};

let model: Model | null = null;
let modelYaml = '';
let data: { train: DatasetTensors; test: DatasetTensors } | null = null;
let dataPromise: Promise<{ train: DatasetTensors; test: DatasetTensors }> | null = null;
let abort: AbortController | null = null;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  backend: $<HTMLParagraphElement>('backend'),
  yaml: $<HTMLTextAreaElement>('yaml'),
  gutter: $<HTMLPreElement>('gutter'),
  errors: $<HTMLUListElement>('errors'),
  modelStatus: $<HTMLSpanElement>('model-status'),
  layers: $<HTMLTableElement>('layers'),
  train: $<HTMLButtonElement>('train'),
  stop: $<HTMLButtonElement>('stop'),
  epochs: $<HTMLInputElement>('epochs'),
  progress: $<HTMLDivElement>('progress'),
  progressFill: $<HTMLDivElement>('progress-fill'),
  status: $<HTMLParagraphElement>('status'),
  dataStatus: $<HTMLSpanElement>('data-status'),
  lossPlot: $<HTMLCanvasElement>('loss-plot'),
  accPlot: $<HTMLCanvasElement>('acc-plot'),
  final: $<HTMLParagraphElement>('final'),
  pad: $<HTMLCanvasElement>('pad'),
  preview: $<HTMLCanvasElement>('preview'),
  clear: $<HTMLButtonElement>('clear'),
  guess: $<HTMLSpanElement>('guess'),
  guessConf: $<HTMLSpanElement>('guess-conf'),
  bars: $<HTMLOListElement>('bars'),
  weightsFile: $<HTMLInputElement>('weights-file'),
  download: $<HTMLButtonElement>('download'),
  weightsStatus: $<HTMLParagraphElement>('weights-status'),
};

const fmtPct = (x: number) => `${(100 * x).toFixed(2)}%`;
const fmtTime = (s: number) => {
  if (!Number.isFinite(s) || s < 0) return '–';
  s = Math.round(s);
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m` : `${m}:${String(s % 60).padStart(2, '0')}`;
};
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

// ----------------------------------------------------------------- editor

function renderGutter(errorLines: Set<number>): void {
  const n = ui.yaml.value.split('\n').length;
  let html = '';
  for (let i = 1; i <= n; i++) html += errorLines.has(i) ? `<span class="err">${i}</span>\n` : `${i}\n`;
  ui.gutter.innerHTML = html;
  ui.gutter.scrollTop = ui.yaml.scrollTop;
}

function jumpTo(line: number, column: number): void {
  const lines = ui.yaml.value.split('\n');
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
  const lineText = lines[line - 1] ?? '';
  const start = offset + Math.max(0, Math.min(column - 1, lineText.length));
  ui.yaml.focus();
  ui.yaml.setSelectionRange(start, offset + lineText.length);
  const lineHeight = parseFloat(getComputedStyle(ui.yaml).lineHeight) || 18;
  ui.yaml.scrollTop = Math.max(0, (line - 1) * lineHeight - ui.yaml.clientHeight / 3);
  ui.gutter.scrollTop = ui.yaml.scrollTop;
}

function renderDiagnostics(list: ConfigError[], kind: 'error' | 'warning'): HTMLLIElement[] {
  return list.map((e) => {
    const li = document.createElement('li');
    li.className = kind;
    li.dataset.line = String(e.line);
    li.dataset.column = String(e.column);
    const where = document.createElement('span');
    where.className = 'where';
    where.textContent = e.line > 0 ? `${e.line}:${e.column}` : kind;
    li.append(where, document.createTextNode(e.message));
    if (e.hint) {
      const hint = document.createElement('span');
      hint.className = 'hint';
      hint.textContent = e.hint;
      li.append(hint);
    }
    li.title = tessera.formatConfigError(e);
    if (e.line > 0) li.addEventListener('click', () => jumpTo(e.line, e.column));
    return li;
  });
}

let lastResult: ValidationResult | null = null;

function validate(): ValidationResult {
  const result = tessera.validateModelConfig(ui.yaml.value, `${options.model}.yaml`);
  lastResult = result;
  const errors = result.ok ? [] : result.errors;
  state.validation = { ok: result.ok, errors: errors.map((e) => ({ line: e.line, column: e.column, message: e.message, code: e.code })) };
  ui.errors.replaceChildren(...renderDiagnostics(errors, 'error'), ...renderDiagnostics(result.warnings, 'warning'));
  renderGutter(new Set(errors.map((e) => e.line)));
  ui.modelStatus.textContent = result.ok ? 'valid' : tessera.countErrors(errors.length);
  ui.modelStatus.className = `pill ${result.ok ? 'ok' : 'bad'}`;
  if (result.ok) {
    const rows = result.layers.map((l) => `<tr><td>${escapeHtml(l.name)} <span class="muted">${escapeHtml(l.type)}</span></td><td>[${l.outputShape.join(', ')}]</td><td>${l.params.toLocaleString('en-US')}</td></tr>`);
    const total = result.layers.reduce((a, l) => a + l.params, 0);
    ui.layers.tBodies[0].innerHTML = rows.join('');
    ui.layers.querySelector('tfoot')?.remove();
    ui.layers.insertAdjacentHTML('beforeend', `<tfoot><tr><td>total</td><td></td><td>${total.toLocaleString('en-US')}</td></tr></tfoot>`);
    ui.layers.hidden = false;
    if (!ui.epochs.value || ui.epochs.dataset.auto === '1') {
      ui.epochs.value = String(options.epochs ?? result.spec.training.epochs);
      ui.epochs.dataset.auto = '1';
    }
  } else {
    ui.layers.hidden = true;
  }
  updateButtons();
  return result;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

let validateTimer = 0;
ui.yaml.addEventListener('input', () => {
  renderGutter(new Set(state.validation?.errors.map((e) => e.line) ?? []));
  clearTimeout(validateTimer);
  validateTimer = window.setTimeout(validate, 150);
});
ui.yaml.addEventListener('scroll', () => { ui.gutter.scrollTop = ui.yaml.scrollTop; });
ui.yaml.addEventListener('keydown', (ev) => {
  // Tab inserts two spaces (YAML has no tabs for indentation).
  if (ev.key === 'Tab' && !ev.shiftKey && !ev.ctrlKey && !ev.metaKey) {
    ev.preventDefault();
    ui.yaml.setRangeText('  ', ui.yaml.selectionStart, ui.yaml.selectionEnd, 'end');
    ui.yaml.dispatchEvent(new Event('input'));
  }
});
ui.epochs.addEventListener('input', () => { ui.epochs.dataset.auto = '0'; });

// ---------------------------------------------------------------- backend

/** The backend the page will use: the URL's ?backend, else the YAML's. */
function backendKind(): BackendKind {
  return options.backend ?? (lastResult?.ok ? lastResult.spec.backend : 'auto');
}

async function probeBackend(): Promise<void> {
  try {
    const probe = await tessera.describeBackendChoice(backendKind());
    setBackendLine(probe);
  } catch (err) {
    ui.backend.dataset.state = 'error';
    ui.backend.textContent = `Backend: ${errorText(err)}`;
  }
}

function setBackendLine(b: { name: string; description: string; reason: string }): void {
  const label = b.name === 'webgpu' ? 'WebGPU' : b.name === 'wasm' ? 'WASM' : 'JS';
  const line = `${label}: ${b.reason}`;
  state.backend = { ...b, line };
  ui.backend.dataset.state = b.name;
  ui.backend.textContent = line;
  ui.backend.title = b.description;
}

/** A model for the editor's current text (re-created when the text or the backend changed). */
async function ensureModel(): Promise<Model> {
  const result = validate();
  if (!result.ok) throw new Error(`the model has ${tessera.countErrors(result.errors.length)}; fix them first`);
  const text = ui.yaml.value;
  if (model && modelYaml === text) return model;
  model?.dispose();
  model = null;
  const m = await tessera.createModel(result.spec, { backend: backendKind() });
  model = m;
  modelYaml = text;
  setBackendLine(m.backendChoice);
  return m;
}

// ------------------------------------------------------------------- data

function loadData(): Promise<{ train: DatasetTensors; test: DatasetTensors }> {
  if (data) return Promise.resolve(data);
  dataPromise ??= (async () => {
    ui.dataStatus.textContent = 'loading MNIST…';
    const t0 = performance.now();
    const d = await tessera.loadMnistFromUrl('data/', {
      trainLimit: options.limit,
      testLimit: options.testLimit,
      onProgress: (l, t) => { if (t > 0) ui.dataStatus.textContent = `loading MNIST… ${Math.round((100 * l) / t)}%`; },
    });
    ui.dataStatus.textContent = `MNIST: ${d.train.count.toLocaleString('en-US')} train, ${d.test.count.toLocaleString('en-US')} test images (${((performance.now() - t0) / 1000).toFixed(1)} s)`;
    data = d;
    return d;
  })().catch((err) => {
    dataPromise = null;
    ui.dataStatus.textContent = '';
    throw err;
  });
  return dataPromise;
}

// --------------------------------------------------------------- training

function updateButtons(): void {
  const busy = state.status === 'training' || state.status === 'loading' || state.status === 'evaluating';
  ui.train.disabled = busy || !state.validation?.ok || !state.backend;
  ui.stop.disabled = !busy;
  ui.download.disabled = busy || !model;
  ui.epochs.disabled = busy;
}

function setStatus(text: string, bad = false): void {
  ui.status.textContent = text;
  ui.status.classList.toggle('bad', bad);
}

function setProgress(fraction: number): void {
  const pct = Math.max(0, Math.min(100, 100 * fraction));
  ui.progressFill.style.width = `${pct}%`;
  ui.progress.setAttribute('aria-valuenow', pct.toFixed(0));
}

async function train(): Promise<void> {
  if (state.status === 'training' || state.status === 'loading') return;
  state.status = 'loading';
  state.error = null;
  state.chunks = [];
  state.epochs = [];
  state.test = null;
  state.trainings++;
  ui.final.hidden = true;
  setProgress(0);
  drawPlots(1);
  abort = new AbortController();
  updateButtons();
  try {
    setStatus('Preparing…');
    const m = await ensureModel();
    const d = await loadData();
    const epochs = Number(ui.epochs.value) || m.spec.training.epochs;
    // Start from the seed's initial weights every time Train is pressed, so a run is reproducible.
    await m.reset();
    state.status = 'training';
    updateButtons();
    const stepsPerEpoch = Math.ceil(d.train.count / m.graph.batchSize);
    const totalSteps = stepsPerEpoch * epochs;
    drawPlots(totalSteps);
    const t0 = performance.now();
    let lastDraw = 0;
    const onEvent = (e: ModelEvent) => {
      if (e.type === 'progress') {
        const done = e.globalStep;
        state.chunks.push({ step: done, loss: e.window.loss, accuracy: e.window.accuracy, epoch: e.epoch });
        const elapsed = (performance.now() - t0) / 1000;
        const eta = (elapsed / Math.max(done, 1)) * (totalSteps - done);
        setProgress(done / totalSteps);
        setStatus(`epoch ${e.epoch}/${e.epochs} · step ${e.step}/${e.steps} · loss ${e.window.loss.toFixed(4)} · accuracy ${fmtPct(e.window.accuracy)} · ${Math.round(e.samplesPerSec).toLocaleString('en-US')} samples/s · ETA ${fmtTime(eta)}`);
        const now = performance.now();
        if (now - lastDraw > 100) { drawPlots(totalSteps); lastDraw = now; }
      } else if (e.type === 'epoch') {
        state.epochs.push({ epoch: e.epoch, step: e.epoch * stepsPerEpoch, loss: e.loss, accuracy: e.accuracy });
        drawPlots(totalSteps);
      } else if (e.type === 'end' && e.test) {
        const lastEpoch = state.epochs.at(-1);
        if (lastEpoch) { lastEpoch.testLoss = e.test.loss; lastEpoch.testAccuracy = e.test.accuracy; }
      }
    };
    const result = await m.fit(d.train, { epochs, test: d.test, onEvent, signal: abort.signal, progressEvery: options.every });
    drawPlots(totalSteps);
    if (result.aborted) {
      state.status = 'stopped';
      setStatus(`Stopped after ${result.steps} steps. The weights so far are kept: draw a digit or download them.`);
    } else {
      state.status = 'evaluating';
      setStatus('Evaluating on the test set…');
      const ev = result.test ?? (await m.evaluate(d.test));
      state.test = { loss: ev.loss, accuracy: ev.accuracy };
      state.status = 'done';
      setProgress(1);
      const secs = (performance.now() - t0) / 1000;
      setStatus(`Done: ${epochs} epoch${epochs === 1 ? '' : 's'} in ${fmtTime(secs)} (${secs.toFixed(1)} s) on ${m.backend.name}.`);
      ui.final.textContent = `Test accuracy ${fmtPct(ev.accuracy)} (loss ${ev.loss.toFixed(4)}) on ${d.test.count.toLocaleString('en-US')} images.`;
      ui.final.hidden = false;
    }
    state.weights = { source: 'trained in this page' };
    ui.weightsStatus.textContent = 'Weights: trained in this page.';
    drawPlots(totalSteps);
    await predictDrawing();
  } catch (err) {
    state.status = 'error';
    state.error = errorText(err);
    setStatus(state.error, true);
    console.error(err);
  } finally {
    abort = null;
    updateButtons();
  }
}

ui.train.addEventListener('click', () => { void train(); });
ui.stop.addEventListener('click', () => abort?.abort());

// ------------------------------------------------------------------ plots

const COLORS = { step: '#2f6fde', epoch: '#e07b00', test: '#1f8a4c', grid: '#e8eaf0', text: '#6b7385' };

function drawPlots(totalSteps: number): void {
  const epochX = state.epochs.map((e) => e.step);
  drawPlot(ui.lossPlot, 'loss', totalSteps, [
    { color: COLORS.step, xs: state.chunks.map((c) => c.step), ys: state.chunks.map((c) => c.loss), dots: false },
    { color: COLORS.epoch, xs: epochX, ys: state.epochs.map((e) => e.loss), dots: true },
    { color: COLORS.test, xs: epochX, ys: state.epochs.map((e) => e.testLoss ?? NaN), dots: true },
  ], false);
  drawPlot(ui.accPlot, 'accuracy', totalSteps, [
    { color: COLORS.step, xs: state.chunks.map((c) => c.step), ys: state.chunks.map((c) => c.accuracy), dots: false },
    { color: COLORS.epoch, xs: epochX, ys: state.epochs.map((e) => e.accuracy), dots: true },
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

// ---------------------------------------------------------------- drawing

const pad = ui.pad.getContext('2d', { willReadFrequently: true })!;
const preview = ui.preview.getContext('2d', { willReadFrequently: true })!;
let drawing = false;
let last: { x: number; y: number } | null = null;
let inked = false;

function clearPad(): void {
  pad.fillStyle = '#000';
  pad.fillRect(0, 0, ui.pad.width, ui.pad.height);
  preview.fillStyle = '#000';
  preview.fillRect(0, 0, 28, 28);
  inked = false;
  state.prediction = null;
  ui.guess.textContent = '–';
  ui.guessConf.textContent = '';
  renderBars(null);
}

function padPoint(ev: PointerEvent): { x: number; y: number } {
  const r = ui.pad.getBoundingClientRect();
  return { x: ((ev.clientX - r.left) * ui.pad.width) / r.width, y: ((ev.clientY - r.top) * ui.pad.height) / r.height };
}

function stroke(from: { x: number; y: number }, to: { x: number; y: number }): void {
  pad.strokeStyle = '#fff';
  pad.fillStyle = '#fff';
  pad.lineCap = 'round';
  pad.lineJoin = 'round';
  pad.lineWidth = ui.pad.width / 12; // about 2.3 MNIST pixels before the 20/28 rescale
  pad.beginPath();
  pad.moveTo(from.x, from.y);
  pad.lineTo(to.x, to.y);
  pad.stroke();
  inked = true;
}

ui.pad.addEventListener('pointerdown', (ev) => {
  ev.preventDefault();
  ui.pad.setPointerCapture(ev.pointerId);
  drawing = true;
  last = padPoint(ev);
  stroke(last, last);
});
ui.pad.addEventListener('pointermove', (ev) => {
  if (!drawing || !last) return;
  const p = padPoint(ev);
  stroke(last, p);
  last = p;
  schedulePredict();
});
const endStroke = () => {
  if (!drawing) return;
  drawing = false;
  last = null;
  void predictDrawing();
};
ui.pad.addEventListener('pointerup', endStroke);
ui.pad.addEventListener('pointercancel', endStroke);
ui.clear.addEventListener('click', clearPad);

/**
 * The drawing as MNIST would have it: the ink's bounding box scaled to fit
 * 20×20 (keeping the aspect ratio), then placed in the 28×28 frame so that
 * its centre of mass is at the centre. Returns 784 bytes, 0 = background.
 */
function drawingToMnist(): Uint8Array | null {
  const W = ui.pad.width, H = ui.pad.height;
  const src = pad.getImageData(0, 0, W, H).data;
  let x0 = W, y0 = H, x1 = -1, y1 = -1;
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    if (src[4 * (y * W + x)] > 20) { if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y; }
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  const scale = 20 / Math.max(bw, bh);
  const tw = Math.max(1, Math.round(bw * scale)), th = Math.max(1, Math.round(bh * scale));
  // Downscale in steps with smoothing (canvas area-averages poorly in one big step).
  let cur: HTMLCanvasElement = ui.pad;
  let cx = x0, cy = y0, cw = bw, ch = bh;
  while (cw / 2 > tw && ch / 2 > th) {
    const c = document.createElement('canvas');
    c.width = Math.ceil(cw / 2);
    c.height = Math.ceil(ch / 2);
    const g = c.getContext('2d')!;
    g.imageSmoothingQuality = 'high';
    g.drawImage(cur, cx, cy, cw, ch, 0, 0, c.width, c.height);
    cur = c; cx = 0; cy = 0; cw = c.width; ch = c.height;
  }
  const small = document.createElement('canvas');
  small.width = tw;
  small.height = th;
  const sg = small.getContext('2d', { willReadFrequently: true })!;
  sg.imageSmoothingQuality = 'high';
  sg.drawImage(cur, cx, cy, cw, ch, 0, 0, tw, th);
  const sp = sg.getImageData(0, 0, tw, th).data;
  // Centre of mass of the small image.
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++) {
    const v = sp[4 * (y * tw + x)];
    mass += v; mx += v * x; my += v * y;
  }
  const ox = Math.round(14 - (mass ? mx / mass : tw / 2) - 0.5);
  const oy = Math.round(14 - (mass ? my / mass : th / 2) - 0.5);
  const out = new Uint8Array(28 * 28);
  for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++) {
    const X = x + ox, Y = y + oy;
    if (X >= 0 && X < 28 && Y >= 0 && Y < 28) out[Y * 28 + X] = sp[4 * (y * tw + x)];
  }
  const img = preview.createImageData(28, 28);
  for (let i = 0; i < 784; i++) { img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = out[i]; img.data[4 * i + 3] = 255; }
  preview.putImageData(img, 0, 0);
  return out;
}

function renderBars(probs: number[] | null): void {
  if (ui.bars.children.length !== 10) {
    ui.bars.innerHTML = Array.from({ length: 10 }, (_, d) => `<li data-digit="${d}"><span>${d}</span><span class="bar"><div></div></span><span class="p">–</span></li>`).join('');
  }
  const top = probs ? probs.indexOf(Math.max(...probs)) : -1;
  [...ui.bars.children].forEach((li, d) => {
    const p = probs ? probs[d] : 0;
    (li.querySelector('.bar div') as HTMLDivElement).style.width = `${(100 * p).toFixed(1)}%`;
    (li.querySelector('.p') as HTMLSpanElement).textContent = probs ? `${(100 * p).toFixed(1)}%` : '–';
    li.classList.toggle('top', d === top);
  });
}

let predictQueued = false;
let predicting = false;
function schedulePredict(): void {
  if (predictQueued) return;
  predictQueued = true;
  requestAnimationFrame(() => { predictQueued = false; void predictDrawing(); });
}

async function predictDrawing(): Promise<void> {
  if (!inked || predicting) return;
  const busy = state.status === 'training' || state.status === 'loading';
  const pixels = drawingToMnist();
  if (!pixels || !model || busy) {
    if (!model && pixels) ui.guessConf.textContent = 'train or load weights first';
    return;
  }
  predicting = true;
  try {
    const probs = Array.from(await model.predict(pixels, 1));
    const digit = probs.indexOf(Math.max(...probs));
    state.prediction = { digit, probs };
    ui.guess.textContent = String(digit);
    ui.guessConf.textContent = `${(100 * probs[digit]).toFixed(1)}% sure`;
    renderBars(probs);
  } catch (err) {
    ui.guessConf.textContent = errorText(err);
  } finally {
    predicting = false;
  }
}

// ---------------------------------------------------------------- weights

async function loadWeightsBytes(bytes: Uint8Array, source: string): Promise<void> {
  const m = await ensureModel();
  const meta = await m.loadWeights(bytes, source);
  state.weights = { source };
  const trained = meta.model ? ` (model '${meta.model}')` : '';
  ui.weightsStatus.textContent = `Weights: ${source}${trained}, ${m.graph.totalParams.toLocaleString('en-US')} parameters.`;
  ui.weightsStatus.classList.remove('bad');
  updateButtons();
  await predictDrawing();
}

ui.weightsFile.addEventListener('change', async () => {
  const file = ui.weightsFile.files?.[0];
  if (!file) return;
  try {
    await loadWeightsBytes(new Uint8Array(await file.arrayBuffer()), file.name);
  } catch (err) {
    ui.weightsStatus.textContent = errorText(err);
    ui.weightsStatus.classList.add('bad');
  } finally {
    ui.weightsFile.value = '';
  }
});

ui.download.addEventListener('click', async () => {
  if (!model) return;
  const bytes = await model.saveWeights({ trained_in: 'browser', backend: model.backend.name });
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `${model.graph.name}.safetensors`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
});

// ------------------------------------------------------------ test hooks

declare global {
  interface Window { __app: typeof api; tessera: typeof tessera }
}

const api = {
  state,
  /** Resolves when the page has its model text and knows its backend. */
  ready: null as unknown as Promise<void>,
  train,
  stop: () => abort?.abort(),
  /** Class probabilities for `count` 28×28 uint8 images (row-major, concatenated). */
  predict: async (pixels: number[] | Uint8Array, count: number): Promise<number[]> => {
    const m = await ensureModel();
    return Array.from(await m.predict(Uint8Array.from(pixels), count));
  },
  loadWeights: (bytes: number[] | Uint8Array, source = 'weights') => loadWeightsBytes(Uint8Array.from(bytes), source),
  /** The 28×28 image the drawing pad currently gives the model. */
  drawing: () => Array.from(drawingToMnist() ?? []),
  backendOf: (): Backend | null => model?.backend ?? null,
};
window.__app = api;
window.tessera = tessera;

// ------------------------------------------------------------------- start

async function start(): Promise<void> {
  clearPad();
  renderBars(null);
  drawPlots(1);
  try {
    const res = await fetch(`models/${options.model}.yaml`);
    if (!res.ok) throw new Error(`cannot load models/${options.model}.yaml: HTTP ${res.status}`);
    ui.yaml.value = await res.text();
  } catch (err) {
    ui.yaml.value = '';
    setStatus(errorText(err), true);
  }
  validate();
  await probeBackend();
  updateButtons();
  document.body.dataset.ready = '1';
}

api.ready = start();
