// What the page knows: the URL's options, the state that
// test/browser.test.ts reads through window.__app.state, and the model in
// use. Panels write them; nothing here touches the DOM.

import type { BackendKind, Model } from '../src/browser.js';

// URL parameters (for people and for test/browser.test.ts):
//   ?limit=2000      train on the first 2000 training examples only
//   ?test=1000       evaluate on the first 1000 test examples only
//   ?epochs=1        epochs (default: the YAML's training.epochs)
//   ?backend=wasm    force a backend (auto | webgpu | wasm | js); default: the YAML's
//   ?every=8         steps per progress update (plot point)
//   ?model=mnist     which models/<name>.yaml to load into the editor

export interface ChunkPoint { step: number; loss: number; accuracy: number; epoch: number }
export interface EpochPoint { epoch: number; step: number; loss: number; accuracy: number; valLoss?: number; valAccuracy?: number; testLoss?: number; testAccuracy?: number }

const params = new URLSearchParams(location.search);
const intParam = (name: string): number | undefined => {
  const v = params.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? n : undefined;
};

export const options = {
  limit: intParam('limit'),
  testLimit: intParam('test'),
  epochs: intParam('epochs'),
  every: intParam('every'),
  backend: (params.get('backend') ?? undefined) as BackendKind | undefined,
  model: (params.get('model') ?? 'mnist').replace(/[^\w.-]/g, ''),
};

export const state = {
  options,
  /** 'probing' until the backend is known, then the backend's name. */
  backend: null as null | { name: string; description: string; reason: string; line: string },
  validation: null as null | { ok: boolean; errors: { line: number; column: number; message: string; code: string }[] },
  /** The page's own data file (dropped or chosen) as the model reads it: csv and npz models only. */
  data: null as null | { files: string[]; train: number; test: number; inputShape: number[]; classes: number },
  status: 'idle' as 'idle' | 'loading' | 'training' | 'evaluating' | 'done' | 'stopped' | 'error',
  error: null as string | null,
  chunks: [] as ChunkPoint[],
  epochs: [] as EpochPoint[],
  test: null as null | { loss: number; accuracy: number },
  prediction: null as null | { digit: number; probs: number[] },
  weights: null as null | { source: string },
  trainings: 0,
  /** Text sampled from a character model (format: text) after each epoch, or after weights were loaded (epoch 0). */
  samples: [] as { epoch: number; prompt: string; text: string }[],
};

/** Training or getting ready to: the model must not be used for anything else meanwhile. */
export const isTraining = () => state.status === 'training' || state.status === 'loading';

/** Any run in progress, evaluation included: the buttons that start or change one are off. */
export const isBusy = () => isTraining() || state.status === 'evaluating';

/** The model built from the editor's text (model.ts makes it), and that text. */
export const session = {
  model: null as Model | null,
  yaml: '',
  /** For a csv or npz model: which data file and dataset section the model was made for. */
  dataKey: '',
};
