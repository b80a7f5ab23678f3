// The graph compiler: ModelSpec -> Graph, plain data that every backend
// executes. Shapes come from src/config/shapes.ts (the same rules that
// validation reports errors with), so a Graph is only built from a model
// whose shapes work.
//
// Buffers are named; per-row buffers (activations and their gradients) hold
// `floats` values per example and are sized `floats × batchSize`; parameter
// buffers (params, grads, Adam m and v) hold `floats` values. Per-row buffers
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
import { DATASET_FACTS, type ModelSpec } from '../config/types.js';
import { STREAM_DROPOUT_BASE } from './rng.js';

export type Op =
  /** Rows of the training/test set through the order buffer -> x (floats in [0,1]) and the `labels` buffer. */
  | { kind: 'gather'; x: string; features: number }
  | { kind: 'dense_forward'; layer: string; x: string; w: string; b: string | null; y: string; k: number; n: number; relu: boolean }
  /** Inverted dropout with key rngKey(seed, stream, step); identity at inference (not in `inference`). */
  | { kind: 'dropout'; layer: string; x: string; y: string; features: number; rate: number; stream: number }
  /** Loss, correct-count and dLogits = (softmax - onehot) / rows. Reads the `labels` buffer. */
  | { kind: 'softmax_xent'; logits: string; dlogits: string | null; classes: number }
  | { kind: 'dense_backward_weights'; layer: string; x: string; dy: string; dw: string; db: string | null; k: number; n: number }
  | { kind: 'dense_backward_input'; layer: string; dy: string; w: string; dx: string; reluOut: string | null; k: number; n: number }
  | { kind: 'relu_backward'; layer: string; dy: string; y: string; dx: string; features: number }
  /** Same mask as the forward dropout at the same step (recomputed from the counter). */
  | { kind: 'dropout_backward'; layer: string; dy: string; dx: string; features: number; rate: number; stream: number }
  | { kind: 'adam'; param: string; grad: string; m: string; v: string; size: number };

export type OpKind = Op['kind'];

export type BufferKind = 'input' | 'activation' | 'gradient' | 'param' | 'grad' | 'adam_m' | 'adam_v';

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
  init: 'glorot_uniform' | 'zeros';
  fanIn: number;
  fanOut: number;
  grad: string;
  m: string;
  v: string;
}

export interface Graph {
  name: string;
  seed: number;
  batchSize: number;
  inputShape: number[];
  inputFeatures: number;
  classes: number;
  layers: LayerInfo[];
  params: ParamInfo[];
  totalParams: number;
  buffers: BufferInfo[];
  slots: SlotInfo[];
  /** Training step: gather, forward, loss. */
  forward: Op[];
  /** Training step: gradients, in execution order. */
  backward: Op[];
  /** One Adam op per parameter. */
  update: Op[];
  /** Evaluation/prediction: gather + forward without dropout, ending in `logits`. */
  inference: Op[];
  logits: string;
  optimizer: { learningRate: number; beta1: number; beta2: number; epsilon: number };
}

export const LABELS_BUFFER = 'labels';

export function compileGraph(spec: ModelSpec, batchSize = spec.training.batch_size): Graph {
  const report = inferLayers(spec);
  if (report.errors.length) throw new Error(`model cannot be compiled: ${report.errors.map((e) => e.message).join('; ')}`);
  const facts = DATASET_FACTS[spec.dataset.name];
  const inputFeatures = spec.input_shape.reduce((a, b) => a * b, 1);

  const buffers: Omit<BufferInfo, 'slot'>[] = [];
  const addBuffer = (name: string, kind: BufferKind, floats: number) => {
    buffers.push({ name, kind, floats, perRow: kind === 'input' || kind === 'activation' || kind === 'gradient' });
    return name;
  };
  const params: ParamInfo[] = [];
  const addParam = (name: string, shape: number[], init: ParamInfo['init'], fanIn: number, fanOut: number) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const p: ParamInfo = { name, index: params.length, shape, size, init, fanIn, fanOut, grad: `${name}:grad`, m: `${name}:m`, v: `${name}:v` };
    params.push(p);
    addBuffer(name, 'param', size);
    addBuffer(p.grad, 'grad', size);
    addBuffer(p.m, 'adam_m', size);
    addBuffer(p.v, 'adam_v', size);
    return p;
  };

  const forward: Op[] = [{ kind: 'gather', x: addBuffer('input', 'input', inputFeatures), features: inputFeatures }];
  // What produced the current activation, so backward knows how to route gradients.
  interface Stage { buffer: string; features: number; producer: 'input' | 'dense' | 'dropout'; relu: boolean; layer?: LayerInfo; dropoutRate?: number; stream?: number; input?: Stage; hasParamsUpstream: boolean; w?: string; b?: string | null; k?: number }
  let cur: Stage = { buffer: 'input', features: inputFeatures, producer: 'input', relu: false, hasParamsUpstream: false };
  const stages: Stage[] = [];

  spec.layers.forEach((layerSpec, i) => {
    const info = report.layers[i];
    if (layerSpec.type === 'flatten') return; // row-major data: flatten is a rename
    if (layerSpec.type === 'dense') {
      const [k, n] = [cur.features, layerSpec.units];
      const w = addParam(`${info.name}/kernel`, [k, n], 'glorot_uniform', k, n).name;
      const b = layerSpec.use_bias === false ? null : addParam(`${info.name}/bias`, [n], 'zeros', k, n).name;
      const y = addBuffer(`${info.name}/out`, 'activation', n);
      const relu = layerSpec.activation === 'relu';
      forward.push({ kind: 'dense_forward', layer: info.name, x: cur.buffer, w, b, y, k, n, relu });
      cur = { buffer: y, features: n, producer: 'dense', relu, layer: info, input: cur, hasParamsUpstream: true, w, b, k };
    } else {
      const y = addBuffer(`${info.name}/out`, 'activation', cur.features);
      const stream = STREAM_DROPOUT_BASE + i;
      forward.push({ kind: 'dropout', layer: info.name, x: cur.buffer, y, features: cur.features, rate: layerSpec.rate, stream });
      cur = { buffer: y, features: cur.features, producer: 'dropout', relu: false, layer: info, dropoutRate: layerSpec.rate, stream, input: cur, hasParamsUpstream: cur.hasParamsUpstream };
    }
    stages.push(cur);
  });

  const logits = cur.buffer;
  const dlogits = addBuffer(`grad:${logits}`, 'gradient', cur.features);
  forward.push({ kind: 'softmax_xent', logits, dlogits, classes: cur.features });

  // Backward: walk stages from the loss towards the input. `grad` holds the
  // name of the buffer with dLoss/d(stage output); for a relu dense stage
  // `gradIsPreActivation` says the ReLU mask was already applied (fused).
  const backward: Op[] = [];
  let grad = dlogits;
  let gradIsPreActivation = false;
  for (let s = stages.length - 1; s >= 0; s--) {
    const st = stages[s];
    const input = st.input!;
    if (!input.hasParamsUpstream && st.producer === 'dropout') break; // nothing left to train below
    if (st.producer === 'dense') {
      let dz = grad;
      if (st.relu && !gradIsPreActivation) {
        dz = addBuffer(`grad:${st.layer!.name}/preact`, 'gradient', st.features);
        backward.push({ kind: 'relu_backward', layer: st.layer!.name, dy: grad, y: st.buffer, dx: dz, features: st.features });
      }
      const w = st.w!;
      backward.push({ kind: 'dense_backward_weights', layer: st.layer!.name, x: input.buffer, dy: dz, dw: `${w}:grad`, db: st.b ? `${st.b}:grad` : null, k: st.k!, n: st.features });
      if (!input.hasParamsUpstream) break;
      const fuseRelu = input.producer === 'dense' && input.relu;
      const dx = addBuffer(`grad:${input.buffer}`, 'gradient', input.features);
      backward.push({ kind: 'dense_backward_input', layer: st.layer!.name, dy: dz, w, dx, reluOut: fuseRelu ? input.buffer : null, k: st.k!, n: st.features });
      grad = dx;
      gradIsPreActivation = fuseRelu;
    } else {
      const dx = addBuffer(`grad:${input.buffer}`, 'gradient', input.features);
      backward.push({ kind: 'dropout_backward', layer: st.layer!.name, dy: grad, dx, features: st.features, rate: st.dropoutRate!, stream: st.stream! });
      grad = dx;
      gradIsPreActivation = false;
    }
  }

  const update: Op[] = params.map((p) => ({ kind: 'adam', param: p.name, grad: p.grad, m: p.m, v: p.v, size: p.size }));

  // Inference: drop dropout ops and read their inputs instead.
  const alias = new Map<string, string>();
  const inference: Op[] = [];
  for (const op of forward) {
    if (op.kind === 'dropout') { alias.set(op.y, alias.get(op.x) ?? op.x); continue; }
    if (op.kind === 'softmax_xent') { inference.push({ ...op, logits: alias.get(op.logits) ?? op.logits, dlogits: null }); continue; }
    if (op.kind === 'dense_forward') { inference.push({ ...op, x: alias.get(op.x) ?? op.x }); continue; }
    inference.push(op);
  }
  const inferenceLogits = alias.get(logits) ?? logits;

  const { placed, slots } = assignSlots(buffers, [...forward, ...backward, ...update]);
  return {
    name: spec.name,
    seed: spec.seed,
    batchSize,
    inputShape: [...spec.input_shape],
    inputFeatures,
    classes: facts.classes,
    layers: report.layers,
    params,
    totalParams: params.reduce((a, p) => a + p.size, 0),
    buffers: placed,
    slots,
    forward,
    backward,
    update,
    inference,
    logits: inferenceLogits,
    optimizer: { learningRate: spec.optimizer.learning_rate, beta1: spec.optimizer.beta_1, beta2: spec.optimizer.beta_2, epsilon: spec.optimizer.epsilon },
  };
}

/** Buffer names an op reads and writes (for liveness, and for backends that bind by name). */
export function opBuffers(op: Op): { reads: string[]; writes: string[] } {
  const r = (...xs: (string | null)[]) => xs.filter((x): x is string => x !== null);
  switch (op.kind) {
    case 'gather': return { reads: [], writes: [op.x, LABELS_BUFFER] };
    case 'dense_forward': return { reads: r(op.x, op.w, op.b), writes: [op.y] };
    case 'dropout': return { reads: [op.x], writes: [op.y] };
    case 'softmax_xent': return { reads: [op.logits, LABELS_BUFFER], writes: r(op.dlogits) };
    case 'dense_backward_weights': return { reads: [op.x, op.dy], writes: r(op.dw, op.db) };
    case 'dense_backward_input': return { reads: r(op.dy, op.w, op.reluOut), writes: [op.dx] };
    case 'relu_backward': return { reads: [op.dy, op.y], writes: [op.dx] };
    case 'dropout_backward': return { reads: [op.dy], writes: [op.dx] };
    case 'adam': return { reads: [op.grad], writes: [op.param, op.m, op.v] };
  }
}

/**
 * Interval colouring of per-row buffers over the training op sequence:
 * a buffer may take a slot whose previous occupant's last use is strictly
 * before this buffer's first write. Parameter-side buffers get their own slots.
 */
function assignSlots(buffers: Omit<BufferInfo, 'slot'>[], ops: Op[]): { placed: BufferInfo[]; slots: SlotInfo[] } {
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
    ...g.buffers.map((b) => `  ${b.name.padEnd(28)} ${b.kind.padEnd(10)} ${b.perRow ? `${b.floats}/row` : `${b.floats}`}  slot ${slotOf.get(b.name)}`),
  ];
  return lines.join('\n');
}
