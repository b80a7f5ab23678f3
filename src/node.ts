// Node-only entry, `import { loadMnist, saveWeights } from 'tessera/node'`:
// file loading (IDX, weights) and, with the webgpu backend, Dawn's adapter.
// Keep this a plain list of `export * from` lines.
export * from './data/node.js';
export * from './data/weights-node.js';
export * from './node-backends.js';
