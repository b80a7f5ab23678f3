// The graph compiler: ModelSpec -> Graph, plain data that every backend
// executes. Shapes come from src/config/shapes.ts (the same rules that
// validation reports errors with), so a Graph is only built from a model
// whose shapes work.
//
// Buffers are named; per-row buffers (activations and their gradients) hold
// `floats` values per example and are sized `floats × batchSize`; parameter
// buffers (params, grads, optimizer state) hold `floats` values. Per-row buffers
// whose lifetimes do not overlap share a storage `slot` (a simple interval
// colouring over the training op sequence), so backends allocate slots, not
// buffers.
//
// Autodiff is at op granularity: each layer appends its backward ops in
// reverse order. The first dense layer computes no input gradient (nothing
// upstream has parameters). A ReLU whose output feeds a dense layer directly
// is fused into that layer's dense_backward_input (reluOut); otherwise (e.g.
// dropout in between) an explicit relu_backward runs.

import { inferLayers, type LayerInfo } from '../config/shapes.js';
import { MODEL_INPUT } from '../config/topology.js';
import type { ModelSpec } from '../config/types.js';
import type { FeatureDtype } from '../data/types.js';
import { layerDef } from '../layers/index.js';
import type { Grad, GraphBuilder, LoweredLayer, Regularizer, Tensor } from '../layers/types.js';
import { opBuffers, type Op } from '../ops/index.js';
import type { OpRecordBase } from '../ops/types.js';
import { LABELS_BUFFER } from '../ops/gather.js';
import { TARGETS_BUFFER, type GatherTargetsOp } from '../ops/gather_targets.js';
import { lowerLoss, type GraphMetric, type PredictionKind } from './losses/index.js';
import { STREAM_DROPOUT_BASE } from './rng.js';
import { graphOptimizer, optimizerState, optimizerUpdate, type GraphOptimizer } from './optimizers/index.js';
import { gradientOps, penaltyOps } from './optimizers/gradients.js';

export type { Op, OpKind } from '../ops/index.js';
export { opBuffers } from '../ops/index.js';
export { LABELS_BUFFER };

/**
 * 'optimizer_state': a parameter's optimizer state (Adam's moments, SGD's
 * momentum, …), listed per parameter in ParamInfo.state; resetOptimizer
 * zeroes them and a checkpoint saves them with the parameters.
 * 'moving_stat': a non-trainable weight (batch normalization's moving
 * statistics), listed in graph.params with trainable false: saved and
 * loaded with the weights, written by its ops, no gradient, no optimizer.
 * 'batch_stat': per-channel statistics of the current batch that an op
 * keeps from forward to backward.
 * 'grad_norm': a gradient's sum of squares within a step (clipnorm,
 * global_clipnorm); scratch, never saved.
 */
export type BufferKind = 'input' | 'activation' | 'gradient' | 'param' | 'grad' | 'optimizer_state' | 'moving_stat' | 'batch_stat' | 'grad_norm';

export interface BufferInfo {
  name: string;
  kind: BufferKind;
  /** Values per example for per-row buffers, total values otherwise. */
  floats: number;
  perRow: boolean;
  /** Storage slot; buffers with the same slot share memory. */
  slot: number;
}

export interface SlotInfo { id: number; floats: number; perRow: boolean }

export interface ParamInfo {
  /** Keras-like name, e.g. dense_1/kernel. Also the safetensors tensor name. */
  name: string;
  index: number;
  shape: number[];
  size: number;
  init: 'glorot_uniform' | 'uniform' | 'zeros' | 'ones';
  fanIn: number;
  fanOut: number;
  /**
   * False for moving statistics (buffer kind moving_stat): they have no
   * grad, m or v buffers (those names are not allocated) and no update op.
   */
  trainable: boolean;
  grad: string;
  /** Its kernel_regularizer (L1L2), whose gradient grad_prep adds; null without one. */
  regularizer: Regularizer | null;
  /** The optimizer's state buffers of this parameter (kind 'optimizer_state'), in the order its update op takes them, e.g. [`<name>:m`, `<name>:v`] for Adam. */
  state: string[];
}

export interface Graph {
  name: string;
  seed: number;
  batchSize: number;
  inputShape: number[];
  inputFeatures: number;
  /** How the dataset stores features: the first op is gather (uint8 pixels) or gather_f32. */
  inputDtype: FeatureDtype;
  classes: number;
  layers: LayerInfo[];
  /** Every weight, trainable or not, in the order they are saved. */
  params: ParamInfo[];
  /** Values of every weight (Keras's "Total params"). */
  totalParams: number;
  /** Values of the trainable weights. */
  trainableParams: number;
  buffers: BufferInfo[];
  slots: SlotInfo[];
  /** Training step: gather (and gather_targets), forward, loss, metrics. */
  forward: Op[];
  /** Training step: gradients, in execution order. */
  backward: Op[];
  /** Gradient regularization and clipping ops (src/runtime/optimizers/gradients.ts), then one optimizer update op per trainable parameter. */
  update: Op[];
  /** Evaluation/prediction: gather + forward without dropout up to `logits`, then the loss and metric ops. */
  inference: Op[];
  logits: string;
  /** Values per row of the last layer (`logits`): what predict returns per example. */
  outputs: number;
  /** Predictions scored per example: 1, or T for a loss at every position of a sequence (accuracy = correct / (examples · scoredPositions)). */
  scoredPositions: number;
  /** Float targets per example that the loss reads (gathered into TARGETS_BUFFER); 0 when it reads class labels. */
  targetWidth: number;
  /** The last `lossOps` ops of `inference` are the loss and metric ops (predict leaves them out). */
  lossOps: number;
  /** The spec's metrics, in order, and where each accumulates (src/runtime/losses). */
  metrics: GraphMetric[];
  /** Accumulators of metric ops beyond the loss op's correct count. */
  metricAccumulators: number;
  /** What predict returns per row: softmax or sigmoid probabilities, or the outputs as they are. */
  prediction: PredictionKind;
  optimizer: GraphOptimizer;
}

export function compileGraph(spec: ModelSpec, batchSize = spec.training.batch_size): Graph {
  const report = inferLayers(spec);
  if (report.errors.length) throw new Error(`model cannot be compiled: ${report.errors.map((e) => e.message).join('; ')}`);
  const inputDtype: FeatureDtype = spec.data?.dtype ?? 'uint8';
  const inputFeatures = spec.input_shape.reduce((a, b) => a * b, 1);

  const buffers: Omit<BufferInfo, 'slot'>[] = [];
  const addBuffer = (name: string, kind: BufferKind, floats: number) => {
    if (!buffers.some((b) => b.name === name)) buffers.push({ name, kind, floats, perRow: kind === 'input' || kind === 'activation' || kind === 'gradient' });
    return name;
  };
  const params: ParamInfo[] = [];
  const forward: OpRecordBase[] = [];
  const backward: OpRecordBase[] = [];
  // Train-only ops (dropout) and the alias their output has at inference.
  const trainOnly = new Map<OpRecordBase, { input: string; output: string }>();
  // Gradient buffers are named after the tensor they hold the gradient of;
  // when two consumers of one tensor each write theirs, the second gets a
  // name of its own (they are summed afterwards).
  let lowering = -1;
  const gradientNames = new Map<string, string>();
  const takenGradients = new Set<string>();
  const gradientBuffer = (name: string, floats: number) => {
    const key = `${lowering}|${name}`;
    let actual = gradientNames.get(key);
    if (!actual) {
      actual = name;
      for (let k = 2; takenGradients.has(actual); k++) actual = `${name}~${k}`;
      takenGradients.add(actual);
      gradientNames.set(key, actual);
    }
    return addBuffer(actual, 'gradient', floats);
  };
  // Training ops whose place another op takes in inference (batch normalization).
  const inferenceOp = new Map<OpRecordBase, OpRecordBase>();
  const builder: GraphBuilder = {
    batchSize,
    seed: spec.seed,
    activation: (name, floats) => addBuffer(name, 'activation', floats),
    gradient: gradientBuffer,
    param(layer, decl) {
      const name = `${layer}/${decl.name}`;
      const size = decl.shape.reduce((a, b) => a * b, 1);
      const trainable = decl.trainable !== false;
      const state = trainable ? optimizerState(spec.optimizer, name) : [];
      const p: ParamInfo = { name, index: params.length, shape: decl.shape, size, init: decl.init, fanIn: decl.fanIn, fanOut: decl.fanOut, trainable, grad: `${name}:grad`, state, regularizer: decl.regularizer ?? null };
      params.push(p);
      if (!trainable) return addBuffer(name, 'moving_stat', size);
      addBuffer(name, 'param', size);
      addBuffer(p.grad, 'grad', size);
      for (const s of state) addBuffer(s, 'optimizer_state', size);
      return name;
    },
    batchState: (name, floats) => addBuffer(name, 'batch_stat', floats),
    forward: (op) => { forward.push(op); },
    forwardModes: (train, infer) => { forward.push(train); inferenceOp.set(train, infer); },
    trainOnly: (op, input, output) => { forward.push(op); trainOnly.set(op, { input, output }); },
    backward: (op) => { backward.push(op); },
    stream: (index) => STREAM_DROPOUT_BASE + index,
  };

  forward.push({ kind: inputDtype === 'float32' ? 'gather_f32' : 'gather', layer: 'input', x: addBuffer('input', 'input', inputFeatures), features: inputFeatures } as OpRecordBase);
  // A model whose output is a sequence [T, C] (a character model) is scored at
  // every position (the loss reads the next ids as float targets of width T).
  const outputShape = report.layers[spec.layers.length - 1]!.outputShape;
  const positions = outputShape.length === 2 ? outputShape[0]! : 1;
  const modelInput: Tensor = { buffer: 'input', shape: [...spec.input_shape], features: inputFeatures, needsGrad: false, reluOutput: false };
  const { topology } = report;
  const outputs = new Map<number, Tensor>([[MODEL_INPUT, modelInput]]);
  const consumerCount = (p: number) => topology.consumers[p === MODEL_INPUT ? spec.layers.length : p]!.length;
  const lowered: LoweredLayer[] = [];
  for (const i of topology.order) {
    const info = report.layers[i]!;
    // A tensor that feeds several layers gets its gradient summed from all of
    // them, so no consumer may fold the tensor's ReLU mask into its own.
    const inputs = topology.inputs[i]!.map((p) => (consumerCount(p) > 1 ? { ...outputs.get(p)!, reluOutput: false } : outputs.get(p)!));
    lowering = i;
    const out = layerDef(spec.layers[i]!).lower(spec.layers[i]!, info, inputs, builder);
    lowered[i] = out;
    // A tensor needs a gradient once any layer at or below it has parameters.
    outputs.set(i, { ...out.output, needsGrad: inputs.some((x) => x.needsGrad) || info.trainableParams > 0 });
  }

  const outputLayer = spec.layers.length - 1;
  const cur = outputs.get(outputLayer)!;
  const logits = cur.buffer;
  const dlogits = addBuffer(`grad:${logits}`, 'gradient', cur.features);
  takenGradients.add(dlogits);
  // Kernel regularizers' penalties join the reported loss (in inference too: it is built from forward).
  forward.push(...penaltyOps(params.filter((p) => p.trainable)));

  // Inference: train-only ops are left out and their outputs read their inputs instead.
  const alias = new Map<string, string>();
  const resolve = (name: string) => alias.get(name) ?? name;
  const inference: OpRecordBase[] = [];
  for (const op of forward) {
    const skip = trainOnly.get(op);
    if (skip) { alias.set(skip.output, resolve(skip.input)); continue; }
    inference.push(renameReads(inferenceOp.get(op) ?? op, resolve));
  }
  const inferenceLogits = resolve(logits);

  // The loss (src/runtime/losses): in training its op writes dLoss/dlogits
  // too; in evaluation it only accumulates; metric ops follow it in both.
  const loss = lowerLoss(spec, { train: logits, eval: inferenceLogits }, dlogits, cur.features / positions, positions);
  if (loss.targetWidth > 0) {
    // The targets are gathered right after the inputs, in training and evaluation.
    const gatherTargets: GatherTargetsOp = { kind: 'gather_targets', layer: 'loss', targets: addBuffer(TARGETS_BUFFER, 'input', loss.targetWidth), width: loss.targetWidth };
    forward.splice(1, 0, gatherTargets);
    inference.splice(1, 0, gatherTargets);
  }
  forward.push(...loss.train);
  inference.push(...loss.eval);

  // Backward: from the loss towards the input, in reverse topological order,
  // each layer turning the gradient of its output into those of its inputs.
  // Gradients arriving at one tensor from several consumers are summed in
  // consumer order (a fixed order, so results are reproducible); a layer
  // no gradient reaches (nothing below it has parameters) is skipped.
  const arriving = new Map<number, { from: number; grad: Grad }[]>([[outputLayer, [{ from: spec.layers.length, grad: { buffer: dlogits, reluApplied: false } }]]]);
  for (const i of [...topology.order].reverse()) {
    const arrivals = arriving.get(i);
    if (!arrivals) continue;
    lowering = i;
    const grad = sumGradients(arrivals.sort((a, b) => a.from - b.from).map((a) => a.grad), outputs.get(i)!, report.layers[i]!.name, builder);
    const layer = lowered[i]!;
    const inputGrads = layer.backward ? layer.backward(grad) : topology.inputs[i]!.map(() => grad);
    topology.inputs[i]!.forEach((p, j) => {
      const g = inputGrads[j];
      if (!g || p === MODEL_INPUT || !outputs.get(p)!.needsGrad) return;
      arriving.set(p, [...(arriving.get(p) ?? []), { from: i, grad: g }]);
    });
  }

  const trainable = params.filter((p) => p.trainable);
  const update: OpRecordBase[] = [
    ...gradientOps(spec.optimizer, trainable, (name) => addBuffer(name, 'grad_norm', 1)),
    ...trainable.map((p) => optimizerUpdate(spec.optimizer, { name: p.name, grad: p.grad, size: p.size, state: p.state })),
  ];

  const { placed, slots } = assignSlots(buffers, [...forward, ...backward, ...update]);
  return {
    name: spec.name,
    seed: spec.seed,
    batchSize,
    inputShape: [...spec.input_shape],
    inputFeatures,
    inputDtype,
    classes: cur.features / positions,
    layers: report.layers,
    params,
    totalParams: params.reduce((a, p) => a + p.size, 0),
    trainableParams: params.reduce((a, p) => a + (p.trainable ? p.size : 0), 0),
    buffers: placed,
    slots,
    forward: forward as Op[],
    backward: backward as Op[],
    update: update as Op[],
    inference: inference as Op[],
    logits: inferenceLogits,
    outputs: cur.features,
    targetWidth: loss.targetWidth,
    scoredPositions: positions,
    lossOps: loss.eval.length,
    metrics: loss.metrics,
    metricAccumulators: loss.metricAccumulators,
    prediction: loss.prediction,
    optimizer: graphOptimizer(spec.optimizer),
  };
}

/** One gradient as is; several summed left to right with add ops into dLoss/d(tensor). */
function sumGradients(grads: Grad[], tensor: Tensor, layer: string, g: GraphBuilder): Grad {
  if (grads.length === 1) return grads[0]!;
  let acc = grads[0]!.buffer;
  for (let k = 1; k < grads.length; k++) {
    const y = g.gradient(k === grads.length - 1 ? `grad:${tensor.buffer}:sum` : `grad:${tensor.buffer}:sum${k}`, tensor.features);
    g.backward({ kind: 'add', layer, a: acc, b: grads[k]!.buffer, y, features: tensor.features } as OpRecordBase);
    acc = y;
  }
  return { buffer: acc, reluApplied: false };
}

/** The op with every buffer it only reads renamed (inference reads a dropout's input instead of its output). */
function renameReads(op: OpRecordBase, resolve: (name: string) => string): OpRecordBase {
  const { reads, writes } = opBuffers(op);
  const out: Record<string, unknown> = { ...op };
  for (const [k, v] of Object.entries(op)) {
    if (typeof v !== 'string' || k === 'kind' || k === 'layer') continue;
    if (reads.includes(v) && !writes.includes(v)) out[k] = resolve(v);
  }
  return out as unknown as OpRecordBase;
}

/**
 * Interval colouring of per-row buffers over the training op sequence:
 * a buffer may take a slot whose previous occupant's last use is strictly
 * before this buffer's first write. Parameter-side buffers get their own slots.
 */
function assignSlots(buffers: Omit<BufferInfo, 'slot'>[], ops: OpRecordBase[]): { placed: BufferInfo[]; slots: SlotInfo[] } {
  const first = new Map<string, number>(), last = new Map<string, number>();
  ops.forEach((op, i) => {
    const { reads, writes } = opBuffers(op);
    for (const b of [...reads, ...writes]) {
      if (!first.has(b)) first.set(b, i);
      last.set(b, i);
    }
  });
  const slots: SlotInfo[] = [];
  const slotFreeAfter: number[] = [];
  // Only gradient slots are shared: activations are read again by inference,
  // in a different pattern than training, so each keeps its own slot.
  const gradientSlot: boolean[] = [];
  const placed: BufferInfo[] = [];
  const perRow = buffers.filter((b) => b.perRow).sort((a, b) => (first.get(a.name) ?? 0) - (first.get(b.name) ?? 0));
  for (const b of perRow) {
    const start = first.get(b.name) ?? 0, end = last.get(b.name) ?? start;
    let slot = b.kind === 'gradient' ? slots.findIndex((_, i) => gradientSlot[i] && slotFreeAfter[i] < start) : -1;
    if (slot < 0) {
      slot = slots.length;
      slots.push({ id: slot, floats: 0, perRow: true });
      slotFreeAfter.push(-1);
      gradientSlot.push(b.kind === 'gradient');
    }
    slots[slot].floats = Math.max(slots[slot].floats, b.floats);
    slotFreeAfter[slot] = end;
    placed.push({ ...b, slot });
  }
  for (const b of buffers.filter((x) => !x.perRow)) {
    const slot = slots.length;
    slots.push({ id: slot, floats: b.floats, perRow: false });
    placed.push({ ...b, slot });
  }
  const order = new Map(buffers.map((b, i) => [b.name, i]));
  placed.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
  return { placed, slots };
}

/** A readable listing of the graph (tessera validate --graph). */
export function describeGraph(g: Graph): string {
  const fmtOp = (op: Op) => {
    const { reads, writes } = opBuffers(op);
    const attrs = Object.entries(op).filter(([k, v]) => !['kind', 'layer'].includes(k) && typeof v !== 'string' && v !== null).map(([k, v]) => `${k}=${v}`);
    return `  ${op.kind.padEnd(24)} ${writes.join(', ')} <- ${reads.join(', ')}${attrs.length ? `  (${attrs.join(' ')})` : ''}`;
  };
  const slotOf = new Map(g.buffers.map((b) => [b.name, b.slot]));
  const lines = [
    `graph ${g.name}: batch ${g.batchSize}, input ${g.inputFeatures}, ${g.classes} classes, ${g.totalParams} parameters`,
    'forward:', ...g.forward.map(fmtOp),
    'backward:', ...g.backward.map(fmtOp),
    'update:', ...g.update.map(fmtOp),
    'inference:', ...g.inference.map(fmtOp),
    `buffers (${g.slots.length} slots):`,
    ...g.buffers.map((b) => `  ${b.name.padEnd(28)} ${b.kind.padEnd(15)} ${b.perRow ? `${b.floats}/row` : `${b.floats}`}  slot ${slotOf.get(b.name)}`),
  ];
  return lines.join('\n');
}
