// The training panel: Train and Stop, the epochs field, the progress bar
// and status line, and the final test accuracy. A run uses the page's model
// (model.ts) and data (data.ts), feeds the plots, and ends with a guess for
// whatever is on the drawing pad.

import * as tessera from '../src/browser.js';
import type { ModelEvent } from '../src/browser.js';
import { updateButtons } from './buttons.js';
import { loadData } from './data.js';
import { predictDrawing } from './drawing-pad.js';
import { ensureModel } from './model.js';
import { drawPlots } from './plots.js';
import { isTraining, options, state } from './state.js';
import { loadTextData, showSample } from './text.js';
import { isTabular, pageDataset } from './user-data.js';
import { errorText, fmtPct, fmtTime, ui } from './ui.js';

let abort: AbortController | null = null;

export function setStatus(text: string, bad = false): void {
  ui.status.textContent = text;
  ui.status.classList.toggle('bad', bad);
}

function setProgress(fraction: number): void {
  const pct = Math.max(0, Math.min(100, 100 * fraction));
  ui.progressFill.style.width = `${pct}%`;
  ui.progress.setAttribute('aria-valuenow', pct.toFixed(0));
}

/** One run of the Train button: from the seed's initial weights, plots and status live, then the test set. */
export async function train(): Promise<void> {
  if (isTraining()) return;
  state.status = 'loading';
  state.error = null;
  state.chunks = [];
  state.epochs = [];
  state.test = null;
  state.samples = [];
  state.trainings++;
  ui.final.hidden = true;
  setProgress(0);
  drawPlots(1);
  abort = new AbortController();
  updateButtons();
  try {
    setStatus('Preparing…');
    const m = await ensureModel();
    const text = m.spec.dataset.format === 'text' ? await loadTextData(m.spec) : null;
    // csv and npz models train on the page's data file (user-data.ts), the rest on MNIST.
    const tabular = isTabular(m.spec) ? pageDataset(m.spec) : null;
    if (tabular) ui.dataStatus.textContent = tabular.source;
    const d = text ?? tabular ?? (await loadData());
    const epochs = Number(ui.epochs.value) || m.spec.training.epochs;
    // Start from the seed's initial weights every time Train is pressed, so a run is reproducible.
    await m.reset();
    state.status = 'training';
    updateButtons();
    // validation_split holds out the end of the training set (Model.fit does the split), so epochs are shorter.
    const split = m.spec.training.validation_split ?? 0;
    const stepsPerEpoch = Math.ceil((split > 0 ? Math.floor(d.train.count * (1 - split)) : d.train.count) / m.graph.batchSize);
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
        state.epochs.push({ epoch: e.epoch, step: e.epoch * stepsPerEpoch, loss: e.loss, accuracy: e.accuracy, valLoss: e.valLoss, valAccuracy: e.valAccuracy });
        if (e.valLoss !== undefined) setStatus(`epoch ${e.epoch}/${e.epochs} · loss ${e.loss.toFixed(4)} · accuracy ${fmtPct(e.accuracy)} · val_loss ${e.valLoss.toFixed(4)} · val_accuracy ${fmtPct(e.valAccuracy!)}`);
        drawPlots(totalSteps);
      } else if (e.type === 'note') {
        setStatus(e.message); // a callback stopped training, restored weights or lowered the learning rate
      } else if (e.type === 'end' && e.test) {
        const lastEpoch = state.epochs.at(-1);
        if (lastEpoch) { lastEpoch.testLoss = e.test.loss; lastEpoch.testAccuracy = e.test.accuracy; }
      }
    };
    // A character model samples text from the current weights after every epoch (training waits for it).
    const onEpochEnd = text ? (epoch: number) => showSample(m, text, epoch) : undefined;
    const result = await m.fit(d.train, { epochs, test: d.test, onEvent, signal: abort.signal, progressEvery: options.every, ...(onEpochEnd ? { onEpochEnd } : {}) });
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
      ui.final.textContent = `Test accuracy ${fmtPct(ev.accuracy)} (loss ${ev.loss.toFixed(4)}) on ${d.test.count.toLocaleString('en-US')} ${tessera.exampleNoun(m.spec.dataset.format, m.spec.input_shape, d.test.count)}.`;
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

/** Stops training after the current chunk of steps (the weights so far are kept). */
export function stopTraining(): void {
  abort?.abort();
}

export function installTrainingPanel(): void {
  ui.train.addEventListener('click', () => { void train(); });
  ui.stop.addEventListener('click', () => stopTraining());
}
