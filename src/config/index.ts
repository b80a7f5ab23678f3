// Public config API. Everything here runs in a browser except calling
// loadModelConfig / validateModelFile, which read files through Node (their
// node: imports are lazy, so merely importing this module is safe).

export { validateModelConfig, modelSchema } from './validate.js';
export { loadModelConfig, validateModelFile } from './load-file.js';
export type { ValidationResult, ValidationSuccess, ValidationFailure } from './validate.js';
export { ConfigErrors, formatConfigError, formatConfigErrors, countErrors } from './errors.js';
export type { ConfigError, ConfigErrorCode, FormatOptions } from './errors.js';
export { inferLayers, totalParams } from './shapes.js';
export type { LayerInfo, ShapeIssue, ShapeReport } from './shapes.js';
export { suggest, editDistance } from './suggest.js';
export { DATASET_FACTS } from './types.js';
export type * from './types.js';
