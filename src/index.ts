// The package entry: `import { loadModelConfig, validateModelConfig } from 'tessera'`.
// Everything here is browser-safe except loadModelConfig, whose node: imports
// happen inside the function. Node-only helpers live in 'tessera/node'.
// Keep this a plain list of `export * from` lines.
export * from './config/index.js';
export * from './runtime/graph.js';
export * from './runtime/backend.js';
export * from './runtime/params.js';
export * from './runtime/rng.js';
export * from './runtime/safetensors.js';
export * from './runtime/checkpoint.js';
export * from './runtime/train-state.js';
export * from './runtime/backends/js.js';
export * from './data/idx.js';
export * from './data/errors.js';
export * as reference from './runtime/reference/kernels.js';
export * from './runtime/trainer.js';
export * from './runtime/select.js';
export * from './runtime/model.js';
export * from './export/index.js';
export * from './custom/wgsl.js';
export * from './custom/check.js';
