// Weights in and out: load a .safetensors file into the page's model, or
// download the current weights as one (the same format `tessera train
// --save` writes and `tessera eval` reads), or the model with them as ONNX
// (what `tessera export --onnx` writes).

import { encodeOnnx, exportSteps } from '../src/browser.js';
import { updateButtons } from './buttons.js';
import { predictDrawing } from './drawing-pad.js';
import { ensureModel } from './model.js';
import { loadTextData, showSample } from './text.js';
import { session, state } from './state.js';
import { errorText, ui } from './ui.js';

/** Loads .safetensors bytes into the page's model (checked against it) and says where they came from. */
export async function loadWeightsBytes(bytes: Uint8Array, source: string): Promise<void> {
  const m = await ensureModel();
  const meta = await m.loadWeights(bytes, source);
  state.weights = { source };
  const trained = meta.model ? ` (model '${meta.model}')` : '';
  ui.weightsStatus.textContent = `Weights: ${source}${trained}, ${m.graph.totalParams.toLocaleString('en-US')} parameters.`;
  ui.weightsStatus.classList.remove('bad');
  updateButtons();
  if (m.spec.dataset.format === 'text') await showSample(m, await loadTextData(m.spec), 0);
  await predictDrawing();
}

export function installWeights(): void {
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
    const model = session.model;
    if (!model) return;
    const bytes = await model.saveWeights({ trained_in: 'browser', backend: model.backend.name });
    download(bytes, `${model.graph.name}.safetensors`);
  });

  ui.downloadOnnx.addEventListener('click', async () => {
    const model = session.model;
    if (!model) return;
    try {
      const steps = exportSteps(model.spec, model.graph, await model.getWeights());
      download(encodeOnnx(steps), `${model.graph.name}.onnx`);
    } catch (err) {
      // A layer with no ONNX form names itself.
      ui.weightsStatus.textContent = errorText(err);
      ui.weightsStatus.classList.add('bad');
    }
  });
}

function download(bytes: Uint8Array, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
