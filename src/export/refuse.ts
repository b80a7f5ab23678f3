// A layer that cannot be exported, as a config error at the layer's `type:`
// in the YAML (file:line:col with the source line and a caret), the way
// every other problem with a model file is reported. Browser-safe.

import { LineCounter, parseDocument } from 'yaml';
import { ConfigErrors, type ConfigError } from '../config/errors.js';
import { SourceLocator } from '../config/locate.js';
import { EXPORTERS, UnsupportedLayer } from './steps.js';

/** The error for `e`, positioned in the model file's text. */
export function unsupportedLayerError(e: UnsupportedLayer, text: string, file: string): ConfigErrors {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { keepSourceTokens: true, lineCounter });
  const path = ['layers', e.layerIndex, 'type'];
  const ref = new SourceLocator(text, doc, lineCounter).find(path, 'value');
  const error: ConfigError = {
    file, line: ref.line, column: ref.column, ...(ref.endColumn !== undefined ? { endColumn: ref.endColumn } : {}),
    message: `export: ${e.message}`, code: 'shape', severity: 'error', path, sourceLine: ref.sourceLine,
    hint: `export supports these layer types: ${Object.keys(EXPORTERS).join(', ')}`,
  };
  return new ConfigErrors([error]);
}
