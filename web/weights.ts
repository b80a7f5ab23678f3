// Weights in and out: load a .safetensors file into the page's model, or
// download the current weights as one (the same format `tessera train
// --save` writes and `tessera eval` reads).

import { updateButtons } from './buttons.js';
import { predictDrawing } from './drawing-pad.js';
import { ensureModel } from './model.js';
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
    const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${model.graph.name}.safetensors`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
}
