// Shared by the export suites: small trained weights made with the CLI, and
// Tessera's own logits (the js reference backend, one batch of all images:
// graph.logits read back after predict).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { validateModelConfig } from '../../src/config/validate.js';
import type { ModelSpec } from '../../src/config/types.js';
import { JsBackend } from '../../src/runtime/backends/js.js';
import { compileGraph, type Graph } from '../../src/runtime/graph.js';
import { initParams } from '../../src/runtime/params.js';
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
  await be.predict(images.subarray(0, count * g.inputFeatures * (g.inputDtype === 'float32' ? 4 : 1)), count);
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

/**
 * The seed's initial weights with the rest made non-trivial, deterministically:
 * biases and betas ±0.2, gammas 1 ± 0.2, moving means ±0.2 and moving
 * variances in [0.5, 1.5], so every weight's handling is checked.
 */
export function withRandomWeights(g: Graph): Float32Array[] {
  let s = 12345;
  const u = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5;
  return initParams(g).map((p, i) => {
    const what = g.params[i]!.name.split('/').pop();
    if (what === 'bias' || what === 'beta' || what === 'moving_mean') return p.map(() => 0.4 * u());
    if (what === 'gamma') return p.map(() => 1 + 0.4 * u());
    if (what === 'moving_variance') return p.map(() => 1 + u());
    return p;
  });
}

/** Small models that use every layer type and activation (random weights: withRandomWeights), by what they cover. */
export const HEADER = 'name: every-layer\nseed: 3\nloss: {type: sparse_categorical_crossentropy, from_logits: true}\noptimizer: {type: adam}\ntraining: {epochs: 1, batch_size: 32}\ndataset: {name: mnist}\n';
export const LAYER_MODELS: Record<string, string> = {
  'conv strides/dilation/same, pools, global average, softmax over 3-D': `${HEADER}input_shape: [28, 28]
layers:
  - {type: reshape, target_shape: [28, 28, 1]}
  - {type: conv2d, filters: 6, kernel_size: [3, 4], strides: 2, padding: same, activation: elu}
  - {type: conv2d, filters: 5, kernel_size: 3, dilation_rate: [2, 1], padding: same, activation: {type: leaky_relu, negative_slope: 0.1}}
  - {type: average_pooling2d, pool_size: 3, strides: 2, padding: same}
  - {type: activation, activation: softmax}
  - {type: max_pooling2d, pool_size: [2, 3], strides: 1, padding: same}
  - {type: conv2d, filters: 8, kernel_size: 2, activation: silu, use_bias: false}
  - {type: global_average_pooling2d}
  - {type: dense, units: 10, activation: {type: gelu, approximate: true}}
`,
  'global max, reshape of channels, every other activation': `${HEADER}input_shape: [28, 28, 1]
layers:
  - {type: conv2d, filters: 4, kernel_size: 5, activation: tanh}
  - {type: max_pooling2d, pool_size: 2}
  - {type: reshape, target_shape: [12, 48]}
  - {type: activation, activation: sigmoid}
  - {type: reshape, target_shape: [12, 12, 4]}
  - {type: average_pooling2d, pool_size: 2}
  - {type: conv2d, filters: 7, kernel_size: 3, padding: same, activation: softplus}
  - {type: global_max_pooling2d}
  - {type: dense, units: 16, activation: gelu}
  - {type: dropout, rate: 0.3}
  - {type: dense, units: 12, activation: relu}
  - {type: activation, activation: swish}
  - {type: dense, units: 10, activation: softmax}
`,
  'batch normalization on a sequence, an image and features; dense on a sequence': `${HEADER}input_shape: [28, 28]
layers:
  - {type: batch_normalization}
  - {type: dense, units: 12, activation: relu}
  - {type: batch_normalization, center: false}
  - {type: reshape, target_shape: [28, 12, 1]}
  - {type: conv2d, filters: 4, kernel_size: 3, strides: 2}
  - {type: batch_normalization, scale: false, epsilon: 0.01}
  - {type: flatten}
  - {type: dense, units: 16, activation: tanh}
  - {type: batch_normalization}
  - {type: dense, units: 10}
`,
  'named inputs: residual add, subtract, multiply, average and concatenate of conv and dense branches (names Python reserves: sum, forward)': `${HEADER}input_shape: [28, 28, 1]
layers:
  - {type: conv2d, name: stem, filters: 4, kernel_size: 3, strides: 2, activation: relu}
  - {type: conv2d, name: left, filters: 4, kernel_size: 3, padding: same}
  - {type: conv2d, name: right, inputs: [stem], filters: 4, kernel_size: 1, activation: sigmoid}
  - {type: add, name: sum, inputs: [stem, left, right]}
  - {type: multiply, name: gated, inputs: [sum, right]}
  - {type: concatenate, name: channels, inputs: [gated, stem], axis: -1}
  - {type: concatenate, name: rows, inputs: [channels, channels], axis: 0}
  - {type: max_pooling2d, pool_size: 2}
  - {type: flatten, name: flat}
  - {type: dense, name: forward, units: 12, activation: tanh}
  - {type: dense, name: b, inputs: [flat], units: 12}
  - {type: subtract, name: diff, inputs: [forward, b]}
  - {type: average, name: mean, inputs: [forward, b, diff]}
  - {type: concatenate, name: both, inputs: [mean, forward]}
  - {type: dense, units: 10}
`,
  'sequence layers: layer normalization, position embedding, embedding of float ids': `${HEADER}input_shape: [28, 28]
layers:
  - {type: layer_normalization}
  - {type: position_embedding, sequence_length: 30}
  - {type: dense, units: 8, activation: relu}
  - {type: layer_normalization, center: false, epsilon: 0.01}
  - {type: flatten}
  - {type: embedding, input_dim: 5, output_dim: 3}
  - {type: layer_normalization, scale: false}
  - {type: flatten}
  - {type: dense, units: 10}
`,
  'multi_head_attention: causal with biases on a residual stream, then not causal without biases (value_dim apart, dropout)': `${HEADER}input_shape: [28, 28]
layers:
  - {type: layer_normalization, name: norm}
  - {type: dense, name: embed, units: 12}
  - {type: position_embedding, name: pos, sequence_length: 28}
  - {type: multi_head_attention, name: causal, num_heads: 2, key_dim: 4, use_causal_mask: true}
  - {type: add, name: residual, inputs: [pos, causal]}
  - {type: layer_normalization}
  - {type: multi_head_attention, num_heads: 3, key_dim: 2, value_dim: 5, use_bias: false, dropout: 0.2}
  - {type: dense, units: 6, activation: relu}
  - {type: flatten}
  - {type: dense, units: 10}
`,
};
