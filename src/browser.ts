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
export * from './runtime/checkpoint.js';
export * from './runtime/train-state.js';
export * from './runtime/trainer.js';
export * from './runtime/select.js';
export * from './runtime/model.js';
export { JsBackend } from './runtime/backends/js.js';
export { WasmBackend } from './runtime/backends/wasm.js';
export { WebGpuBackend } from './runtime/backends/webgpu.js';

// Export to ONNX and PyTorch (the page's "Download ONNX").
export * from './export/index.js';

// Data.
export * from './data/idx.js';
export * from './data/errors.js';
export { exampleNoun } from './data/facts.js';
// A CSV or .npz file's contents as a model's dataset, as the CLI loads the same file (the page's dropped data).
export { csvDataset, npzDataset, csvOptions, type CsvText } from './data/tabular.js';
export type { DataFacts, LoadedData } from './data/types.js';

import { registerBuiltinBackends } from './runtime/backends/register.js';

// The browser build carries all three backends: createBackend('auto', { gpu: navigator.gpu })
// takes WebGPU on a hardware adapter, else WASM (then js).
registerBuiltinBackends();
export { MNIST_FILES, fetchBytes, loadMnistFromUrl, loadTextFromUrl, type LoadMnistOptions, type LoadTextOptions } from './data/browser.js';
export { buildVocabulary, decodeIds, encodeText, textDataset, textWindows, type TextDataset } from './data/text.js';
export { generateIds, sampleId, type GenerateOptions } from './runtime/sampling.js';
