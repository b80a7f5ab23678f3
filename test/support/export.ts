// Shared by the export suites: small trained weights made with the CLI, and
// Tessera's own logits (the js reference backend, one batch of all images:
// graph.logits read back after predict).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { validateModelConfig } from '../../src/config/validate.js';
import type { ModelSpec } from '../../src/config/types.js';
import { JsBackend } from '../../src/runtime/backends/js.js';
import { compileGraph } from '../../src/runtime/graph.js';
import { tessera } from './cli.js';

export function specOf(file: string, text = readFileSync(file, 'utf8')): ModelSpec {
  const r = validateModelConfig(text, file);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.spec;
}

/** `tessera train` on the first `limit` images for one epoch on wasm; the weights file. */
export async function trainSmall(model: string, dir: string, limit: number): Promise<string> {
  const weights = join(dir, `${model.replace(/\W+/g, '_')}.safetensors`);
  const r = await tessera('train', model, '--backend', 'wasm', '--epochs', '1', '--limit', String(limit), '--save', weights, '--quiet');
  assert.is(r.code, 0, r.stderr);
  return weights;
}

/** Tessera's logits [count × classes] for `count` images, on the js reference backend. */
export async function tesseraLogits(spec: ModelSpec, params: Float32Array[], images: Uint8Array, count: number): Promise<Float32Array> {
  const g = compileGraph(spec, count);
  const be = new JsBackend();
  await be.prepare(g, params);
  await be.predict(images.subarray(0, count * g.inputFeatures), count);
  const logits = be.readBuffer(g.logits);
  be.dispose();
  return logits;
}

/** The index of the largest value of each row. */
export function argmaxRows(values: ArrayLike<number>, classes: number): number[] {
  const out: number[] = [];
  for (let i = 0; i * classes < values.length; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (values[i * classes + c]! > values[i * classes + best]!) best = c;
    out.push(best);
  }
  return out;
}
