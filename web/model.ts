// The page's model: one tessera Model for the editor's text, built by
// createModel (the same Model.plan + Model.open path the CLI uses), re-made
// when the text changed, and the backend line in the header that says
// which backend runs and why.

import * as tessera from '../src/browser.js';
import type { BackendKind, Model } from '../src/browser.js';
import { lastResult, validate } from './editor.js';
import { options, session, state } from './state.js';
import { loadTextData } from './text.js';
import { isTabular, pageData } from './user-data.js';
import { errorText, ui } from './ui.js';

/** The backend the page will use: the URL's ?backend, else the YAML's. */
function backendKind(): BackendKind {
  return options.backend ?? (lastResult?.ok ? lastResult.spec.backend : 'auto');
}

export async function probeBackend(): Promise<void> {
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
export async function ensureModel(): Promise<Model> {
  const result = validate();
  if (!result.ok) throw new Error(`the model has ${tessera.countErrors(result.errors.length)}; fix them first`);
  const text = ui.yaml.value;
  // A csv or npz model is re-made for new data too: its input shape and classes come from the file.
  const dataKey = isTabular(result.spec) ? (() => { const o = pageData(result.spec); return 'data' in o ? o.key : ''; })() : '';
  if (session.model && session.yaml === text && session.dataKey === dataKey) return session.model;
  session.model?.dispose();
  session.model = null;
  let spec = result.spec;
  if (spec.dataset.format === 'text') {
    // The corpus decides the vocabulary: the embedding's input_dim and the last layer are checked against it.
    const data = await loadTextData(spec);
    const checked = tessera.validateModelConfig(text, `${options.model}.yaml`, { data: data.facts });
    if (!checked.ok) throw new Error(tessera.formatConfigErrors(checked.errors));
    spec = checked.spec;
  }
  const m = await tessera.createModel(spec, { backend: backendKind() });
  session.model = m;
  session.yaml = text;
  session.dataKey = dataKey;
  setBackendLine(m.backendChoice);
  return m;
}
