// The package entry: `import { loadModelConfig, validateModelConfig } from 'tessera'`.
// Keep this a plain list of `export * from` lines; runtime exports are added
// by the runtime work.
export * from './config/index.js';
