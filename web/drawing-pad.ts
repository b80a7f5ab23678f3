// The drawing pad: draw a digit with the mouse or a finger, see it as the
// 28×28 image the model gets (centred and scaled the way MNIST's digits
// are), and the model's class probabilities as bars, updated while drawing.

import { isTraining, session, state } from './state.js';
import { errorText, ui } from './ui.js';

const pad = ui.pad.getContext('2d', { willReadFrequently: true })!;
const preview = ui.preview.getContext('2d', { willReadFrequently: true })!;
let drawing = false;
let last: { x: number; y: number } | null = null;
let inked = false;

export function clearPad(): void {
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

/**
 * The drawing as MNIST would have it: the ink's bounding box scaled to fit
 * 20×20 (keeping the aspect ratio), then placed in the 28×28 frame so that
 * its centre of mass is at the centre. Returns 784 bytes, 0 = background.
 */
export function drawingToMnist(): Uint8Array | null {
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

export function renderBars(probs: number[] | null): void {
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

/** Shows the model's guess for the drawing, unless there is no ink, no model, or training has the model. */
export async function predictDrawing(): Promise<void> {
  if (!inked || predicting) return;
  const busy = isTraining();
  const pixels = drawingToMnist();
  const model = session.model;
  // Only a model of 28×28 uint8 images can read the pad (not a character model or CSV rows).
  if (model && (model.spec.dataset.format === 'text' || model.graph.inputFeatures !== 784 || model.graph.inputDtype !== 'uint8')) return;
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

export function installDrawingPad(): void {
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
}
