// Shape inference on a schema-valid ModelSpec: each layer's input/output
// shape and parameter count, and the errors that make a model unbuildable
// (so they surface as config errors with a location, never mid-training).
// Each layer's rules live in its file under src/layers/; this module walks
// them. The runtime's graph compiler builds on the same results.

import { layerDef } from '../layers/index.js';
import type { ParamDecl } from '../layers/types.js';
import { checkLoss, type LossData } from './loss-checks.js';
import { MODEL_INPUT, MODEL_INPUT_NAME, resolveTopology, type Topology } from './topology.js';
import { dataFactsOf, DATASET_FACTS, type ModelSpec, type LayerSpec } from './types.js';
import type { DataFacts } from '../data/types.js';

export interface LayerInfo {
  /** The layer's `name`, or Keras-like `<type>_<n>` with a 1-based counter per type. */
  name: string;
  type: LayerSpec['type'];
  /** Position in `layers`. */
  index: number;
  /** The layers it takes, by name (`input`: the model input), in order. */
  inputs: string[];
  /** Shapes without the batch dimension: of the first input, of every input, of the output. */
  inputShape: number[];
  inputShapes: number[][];
  outputShape: number[];
  /** Number of values of every weight, trainable or not (Keras's Param #). */
  params: number;
  /** Number of trainable values (without batch normalization's moving statistics). */
  trainableParams: number;
  paramShapes: { kernel?: [number, number]; bias?: [number] };
  /** Every parameter of the layer, in the order they are saved. */
  paramDecls: ParamDecl[];
  /** The layer's activation (Keras name), for layers that have one. */
  activation?: string;
}

/** A problem tied to a node of the document, by key/index path (mapped to line:col by validate). */
export interface ShapeIssue {
  path: (string | number)[];
  message: string;
  hint?: string;
}

export interface ShapeReport {
  /** In file order; empty when the layer graph itself is broken (an unknown input or a cycle). */
  layers: LayerInfo[];
  /** Which layer feeds which, and the order layers are computed in. */
  topology: Topology;
  errors: ShapeIssue[];
  /** Legal but almost certainly unintended settings. */
  warnings: ShapeIssue[];
}

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;
const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function inferLayers(spec: ModelSpec): ShapeReport {
  const errors: ShapeIssue[] = [];
  const warnings: ShapeIssue[] = [];
  const layers: LayerInfo[] = [];
  const facts = dataFactsOf(spec);

  // [28, 28, 1] is a grayscale [28, 28] image with its channel axis (what conv layers need).
  const withChannel = fmt([...facts?.inputShape ?? [], 1]);
  if (facts && fmt(spec.input_shape) !== fmt(facts.inputShape) && (facts.inputShape.length !== 2 || fmt(spec.input_shape) !== withChannel)) {
    errors.push({
      path: ['input_shape'],
      message: `input_shape ${fmt(spec.input_shape)} does not match ${describeData(facts)}, which ${facts.source in DATASET_FACTS ? 'have' : 'has'} shape ${fmt(facts.inputShape)}`,
      hint: `use input_shape: ${fmt(facts.inputShape)}${facts.inputShape.length === 2 ? ` (or ${withChannel} for conv layers)` : ''}, or leave input_shape out to take it from the data`,
    });
  }

  const topology = resolveTopology(spec.layers, errors);
  if (!topology.order.length) return { layers, topology, errors, warnings };
  const infos: LayerInfo[] = new Array(spec.layers.length);
  for (const index of topology.order) {
    const layer = spec.layers[index]!;
    const path = ['layers', index];
    const def = layerDef(layer);
    const ins = topology.inputs[index]!;
    const [least, most] = def.inputCount ?? [1, 1];
    if (ins.length < least || ins.length > most) {
      const want = least === most ? `${least}` : most === Infinity ? `${least} or more` : `${least} to ${most}`;
      errors.push({ path: [...path, ...(layer.inputs ? ['inputs'] : [])], message: `${/^[aeiou]/.test(layer.type) ? 'an' : 'a'} ${layer.type} layer takes ${want} input${want === '1' ? '' : 's'}, but '${topology.names[index]}' has ${ins.length}`, hint: least > 1 ? 'list the layers it merges in inputs: [a, b]' : 'merge them first, e.g. with an add or concatenate layer' });
    }
    const inputShapes = ins.map((p) => (p === MODEL_INPUT ? [...spec.input_shape] : infos[p]!.outputShape));
    const inputNames = ins.map((p) => (p === MODEL_INPUT ? MODEL_INPUT_NAME : topology.names[p]!));
    const result = def.infer(layer, inputShapes, { path, spec, inputNames, error: (e) => errors.push(e), warn: (w) => warnings.push(w) });
    const kernel = result.params.find((p) => p.name === 'kernel');
    const bias = result.params.find((p) => p.name === 'bias');
    const info: LayerInfo = {
      name: topology.names[index]!,
      type: layer.type,
      index,
      inputs: inputNames,
      inputShape: inputShapes[0]!,
      inputShapes,
      outputShape: result.outputShape,
      params: result.params.reduce((sum, p) => sum + product(p.shape), 0),
      trainableParams: result.params.reduce((sum, p) => sum + (p.trainable === false ? 0 : product(p.shape)), 0),
      paramShapes: {
        ...(kernel ? { kernel: kernel.shape as [number, number] } : {}),
        ...(bias ? { bias: bias.shape as [number] } : {}),
      },
      paramDecls: result.params,
    };
    if (result.activation !== undefined) info.activation = result.activation;
    infos[index] = info;
  }
  layers.push(...infos);

  checkNames(spec, layers, errors);
  checkOneRowPerExample(spec, layers, errors);
  checkOutput(spec, errors, warnings);
  return { layers, topology, errors, warnings };
}

/**
 * A per-example loss needs one row of logits per example. A dense layer on a
 * [T, F] input acts on the last axis (Keras), so an MLP that forgot its
 * flatten ends with [28, 10]: say so where the first such dense layer is.
 */
function checkOneRowPerExample(spec: ModelSpec, layers: LayerInfo[], errors: ShapeIssue[]): void {
  const out = layers[layers.length - 1];
  if (!out || errors.length) return;
  if (spec.dataset.format === 'text') {
    // A character model predicts the next character at every position: [T, vocabulary].
    if (out.outputShape.length !== 2) {
      errors.push({ path: ['layers', out.index], message: `a text model predicts at every position, so its output needs shape [sequence_length, characters], but '${out.name}' gives ${fmt(out.outputShape)}`, hint: 'end with a dense layer on the sequence (no flatten)' });
    }
    // An id at or past input_dim would read a clamped row: the table must hold every character.
    const characters = dataFactsOf(spec)?.classes;
    for (const l of layers) {
      const layer = spec.layers[l.index]!;
      if (characters !== undefined && layer.type === 'embedding' && layer.input_dim < characters) {
        errors.push({ path: ['layers', l.index, 'input_dim'], message: `embedding '${l.name}' has input_dim ${layer.input_dim}, but the text holds ${characters} distinct characters`, hint: `use input_dim: ${characters}` });
      }
    }
    return;
  }
  if (out.outputShape.length < 2) return;
  const first = layers.find((l) => l.type === 'dense' && l.inputShape.length === 2) ?? out;
  errors.push({
    path: ['layers', first.index],
    message: `the model's output has shape ${fmt(out.outputShape)}, but ${spec.loss.type} needs one row of logits per example: the dense layer '${first.name}' acts on the last axis of its input ${fmt(first.inputShape)}`,
    hint: `add a flatten layer before '${first.name}'`,
  });
}

/** Layer names key the saved weights, so they must be unique (explicit ones may clash with generated ones). */
function checkNames(spec: ModelSpec, layers: LayerInfo[], errors: ShapeIssue[]): void {
  const seen = new Map<string, LayerInfo>();
  for (const info of layers) {
    const first = seen.get(info.name);
    if (!first) {
      seen.set(info.name, info);
      continue;
    }
    // Point at whichever of the two has the explicit `name` key.
    const at = spec.layers[info.index]!.name !== undefined ? info : first;
    errors.push({
      path: ['layers', at.index, 'name'],
      message: `duplicate layer name '${info.name}' (layers ${first.index} and ${info.index})`,
      hint: 'give each layer a unique name',
    });
  }
}

/** The model must end in a dense layer, whose units the loss checks against the data (src/config/loss-checks.ts). */
function checkOutput(spec: ModelSpec, errors: ShapeIssue[], warnings: ShapeIssue[]): void {
  const facts = dataFactsOf(spec);
  const classes = facts?.classes;
  const want = classes === undefined ? 'one unit per class' : `units: ${classes} (one per class of ${describeData(facts!)})`;
  if (!spec.layers.some((l) => l.type === 'dense')) {
    errors.push({ path: ['layers'], message: 'the model has no dense layer, so it has nothing to train', hint: `end the model with a dense layer with ${want}` });
    return;
  }
  const lastIndex = spec.layers.length - 1;
  const last = spec.layers[lastIndex]!;
  if (last.type !== 'dense') {
    errors.push({
      path: ['layers', lastIndex],
      message: `the last layer must be a dense layer producing the logits, but it is a ${last.type} layer`,
      hint: `end the model with a dense layer with ${want}`,
    });
    return;
  }
  const activation = typeof last.activation === 'object' ? last.activation.type : last.activation;
  const named = facts ? facts.source in DATASET_FACTS : true;
  const data: LossData = { name: facts ? (named ? facts.source : describeData(facts)) : 'the data', verb: named ? 'has' : 'holds', ...(classes !== undefined ? { classes } : {}) };
  checkLoss(spec, { index: lastIndex, units: last.units, activation }, data, errors, warnings);
}

/** "the mnist examples" for a named dataset, "the data in <file>" for files. */
export function describeData(facts: DataFacts): string {
  return facts.source in DATASET_FACTS ? `the ${facts.source} examples` : `the data in ${facts.source}`;
}

/** Sum of all layers' parameters (trainable or not, as Keras's "Total params"). */
export function totalParams(layers: readonly LayerInfo[]): number {
  return layers.reduce((sum, l) => sum + l.params, 0);
}

/** Sum of all layers' trainable parameters. */
export function trainableParams(layers: readonly LayerInfo[]): number {
  return layers.reduce((sum, l) => sum + l.trainableParams, 0);
}
