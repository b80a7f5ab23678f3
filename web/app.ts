// The demo page: edit a model YAML (validated as you type, errors with
// line:column), train it on WebGPU or WASM with live plots, evaluate on the
// test set, draw a digit and see the prediction, load and download weights.
// This file wires the panels together and starts the page; each panel is
// its own module:
//   editor.ts          the YAML editor, its diagnostics and layer table
//   model.ts           the page's Model for the editor's text, and the backend line
//   training-panel.ts  Train / Stop, progress and status (data.ts loads MNIST)
//   plots.ts           the loss and accuracy plots
//   drawing-pad.ts     the drawing pad and the model's guess
//   weights.ts         weights file in, download out
//   user-data.ts       a dropped or chosen CSV / .npz file as a csv or npz model's data
//   text.ts            a character model's corpus and the text it samples after each epoch
//   state.ts           the URL's options and the state tests read; ui.ts the elements
//
// Bundled by scripts/build-browser.mjs into dist/web/app.js, which imports
// the library bundle (./tessera.js) at run time rather than inlining it, so
// the page exercises the same file a user would import.
//
// window.__app exposes the page's state and a few actions for tests
// (test/browser.test.ts); the URL parameters are listed in state.ts.

import * as tessera from '../src/browser.js';
import type { Backend } from '../src/browser.js';
import { updateButtons } from './buttons.js';
import { clearPad, drawingToMnist, installDrawingPad, renderBars } from './drawing-pad.js';
import { installEditor, validate } from './editor.js';
import { ensureModel, probeBackend } from './model.js';
import { drawPlots } from './plots.js';
import { options, session, state } from './state.js';
import { installTrainingPanel, setStatus, stopTraining, train } from './training-panel.js';
import { loadTextData, sampleText } from './text.js';
import { errorText, ui } from './ui.js';
import { installWeights, loadWeightsBytes } from './weights.js';
import { installDataDrop } from './user-data.js';

installEditor();
installTrainingPanel();
installDrawingPad();
installWeights();
// A dropped or chosen data file re-validates the model against it (and the next Train uses it).
installDataDrop(() => { validate(); });

// ------------------------------------------------------------ test hooks

declare global {
  interface Window { __app: typeof api; tessera: typeof tessera }
}

const api = {
  state,
  /** Resolves when the page has its model text and knows its backend. */
  ready: null as unknown as Promise<void>,
  train,
  stop: stopTraining,
  /** Class probabilities for `count` 28×28 uint8 images (row-major, concatenated). */
  predict: async (pixels: number[] | Uint8Array, count: number): Promise<number[]> => {
    const m = await ensureModel();
    return Array.from(await m.predict(Uint8Array.from(pixels), count));
  },
  loadWeights: (bytes: number[] | Uint8Array, source = 'weights') => loadWeightsBytes(Uint8Array.from(bytes), source),
  /** The 28×28 image the drawing pad currently gives the model. */
  drawing: () => Array.from(drawingToMnist() ?? []),
  backendOf: (): Backend | null => session.model?.backend ?? null,
  /** A character model's text after `prompt` from the current weights (what tessera generate prints after it). */
  generate: async (prompt: string, length: number, temperature: number, seed: number): Promise<string> => {
    const m = await ensureModel();
    return sampleText(m, (await loadTextData(m.spec)).vocabulary, { prompt, length, temperature, seed });
  },
};
window.__app = api;
window.tessera = tessera;

// ------------------------------------------------------------------- start

/** Load models/<name>.yaml into the editor (the picker and ?model= choose it). */
async function loadExample(name: string): Promise<void> {
  try {
    const res = await fetch(`models/${name}.yaml`);
    if (!res.ok) throw new Error(`cannot load models/${name}.yaml: HTTP ${res.status}`);
    ui.yaml.value = await res.text();
  } catch (err) {
    ui.yaml.value = '';
    setStatus(errorText(err), true);
  }
  validate();
}

async function start(): Promise<void> {
  clearPad();
  renderBars(null);
  drawPlots(1);
  if (![...ui.modelPicker.options].some((o) => o.value === options.model)) ui.modelPicker.add(new Option(`models/${options.model}.yaml`, options.model));
  ui.modelPicker.value = options.model;
  ui.modelPicker.addEventListener('change', () => {
    options.model = ui.modelPicker.value;
    void loadExample(options.model).then(() => probeBackend()).then(updateButtons);
  });
  await loadExample(options.model);
  await probeBackend();
  updateButtons();
  document.body.dataset.ready = '1';
}

api.ready = start();
