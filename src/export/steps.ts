// The exporters' shared view of a model: its layers as a list of steps in
// the layout other frameworks use, with the weights already in their
// layouts. Both the ONNX writer (onnx.ts) and the PyTorch writer
// (pytorch.ts) read these steps, so the layout decisions are made once:
//
// - Steps read and write named values: the model input is "input", every
//   step's output a fresh name. Layers with several inputs (add, concatenate,
//   …) read several values; a value may feed several steps.
// - Tessera is channels_last (NHWC) throughout; ONNX's Conv/Pool and
//   PyTorch's conv/pool are channels_first (NCHW). A 3-D value is moved to
//   channels_first right before the first spatial step that needs it and
//   back to channels_last before a step that depends on the element order
//   (flatten, reshape, dense): so Tessera's flatten order, and with it the
//   dense kernels, stay as they are. Each value is transposed at most once
//   each way, however many steps read it.
// - Dense kernels stay [in, out] (ONNX Gemm with transB = 0; PyTorch's
//   Linear weight is the transpose, made by pytorch.ts); conv kernels go
//   from HWIO to OIHW here.
// - `same` padding becomes explicit pads, TensorFlow's split (the odd one
//   bottom/right), from the same arithmetic the kernels use.
// - The first step is the input normalisation (bytes × 1/255), so an
//   exported model takes the raw input that `tessera predict` takes.
//
// A layer type without an entry in EXPORTERS has no export and is refused
// with the layer's position in the YAML (refuse.ts). Browser-safe.

import type { ModelSpec, Pair, Padding } from '../config/types.js';
import { inferLayers, type LayerInfo } from '../config/shapes.js';
import { MODEL_INPUT } from '../config/topology.js';
import { PIXEL_SCALE } from '../ops/gather.js';
import { axis } from '../ops/conv-geometry.js';
import { resolveActivation, type ResolvedActivation } from '../layers/activation-lowering.js';
import { pair } from '../layers/spatial.js';
import type { Graph } from '../runtime/graph.js';

/** Pads of one window op: [top, left, bottom, right]. */
export type Pads = [number, number, number, number];

/** What every step has: the values it reads (`input` is the first) and the one it writes. */
interface Io { input: string; output: string }

export type ExportStep = Io & (
  | { kind: 'scale'; factor: number }
  /** (x − shift) / scale per feature (a CSV's saved statistics), shaped as the input. */
  | { kind: 'normalize'; shift: Float32Array; scale: Float32Array; shape: number[] }
  | { kind: 'to_channels_first' }
  | { kind: 'to_channels_last' }
  | { kind: 'flatten' }
  | { kind: 'reshape'; shape: number[] }
  /** `sequence`: the input is [T, F] and the layer acts on its last axis (F = `inFeatures`). */
  | { kind: 'dense'; layer: string; kernel: Float32Array; bias: Float32Array | null; inFeatures: number; units: number; sequence: boolean }
  | {
      kind: 'conv2d'; layer: string; kernelOIHW: Float32Array; bias: Float32Array | null; inC: number; outC: number;
      kernelSize: [number, number]; strides: [number, number]; dilations: [number, number]; pads: Pads;
    }
  | { kind: 'pool2d'; layer: string; mode: 'max' | 'average'; kernelSize: [number, number]; strides: [number, number]; pads: Pads }
  /** Leaves [batch, channels]. */
  | { kind: 'global_pool2d'; layer: string; mode: 'max' | 'average' }
  /** Over the last axis of [C], [T, C] (`sequence`) or [H, W, C] (held channels_first by then: `spatial`). */
  | {
      kind: 'batch_norm'; layer: string; channels: number; sequence: boolean; spatial: boolean; trainableGamma: boolean; trainableBeta: boolean;
      gamma: Float32Array; beta: Float32Array; mean: Float32Array; variance: Float32Array; epsilon: number; momentum: number;
    }
  /**
   * Elementwise, in any layout; except softmax, which Tessera takes over all
   * of an example's values (its op sees rows of `features`): on a tensor of
   * more than one axis (`shape`, channels_last) the writers flatten, apply
   * it and reshape back.
   */
  | { kind: 'activation'; layer: string; activation: ResolvedActivation; shape: number[] }
  | { kind: 'dropout'; layer: string; rate: number }
  /** Over the last axis of any shape (in channels_last). */
  | { kind: 'layer_norm'; layer: string; dim: number; gamma: Float32Array; beta: Float32Array; trainableGamma: boolean; trainableBeta: boolean; epsilon: number }
  /** Token ids [T] (floats, clamped to 0…vocab−1 and truncated, as Tessera's op) -> rows of `table` [vocab, dim]. */
  | { kind: 'embedding'; layer: string; table: Float32Array; vocab: number; dim: number }
  /** x [T, D] + the first T rows of `table` [length, D]. */
  | { kind: 'position_embedding'; layer: string; table: Float32Array; length: number; positions: number; dim: number }
  /** Left to right over `inputs` (Tessera's order): a + b + c, a − b, a·b·c, (a + b + c)·(1/n). */
  | { kind: 'merge'; layer: string; op: 'add' | 'subtract' | 'multiply' | 'average'; inputs: string[] }
  /**
   * Self-attention on [T, F] (multi_head_attention): projections as dense
   * kernels [F, H·dk] / [F, H·dv] (Keras's [F, H, d], the same memory),
   * biases [H·d], output kernel [H·dv, F]; softmax(scale·q·kᵀ) per head,
   * positions j > i masked when `causal`; `dropout` on the probabilities
   * (PyTorch's train() only; ONNX leaves it out).
   */
  | {
      kind: 'attention'; layer: string; T: number; F: number; heads: number; keyDim: number; valueDim: number; causal: boolean; scale: number; dropout: number;
      query: Float32Array; queryBias: Float32Array | null; key: Float32Array; keyBias: Float32Array | null;
      value: Float32Array; valueBias: Float32Array | null; outputKernel: Float32Array; outputBias: Float32Array | null;
    }
  /** `axis` counts the batch axis, in the inputs' layout (channels_first for spatial values held so). */
  | { kind: 'concatenate'; layer: string; axis: number; inputs: string[] }
);

/** A whole model as steps, with what the writers put in metadata. */
export interface ExportPlan {
  name: string;
  inputShape: number[];
  classes: number;
  classNames: string[];
  /** What the first step does to the raw input, in words. */
  normalization: string;
  steps: ExportStep[];
  /** The value that holds the logits, and their shape without the batch axis ([classes], or [T, classes] per position). */
  output: string;
  outputShape: number[];
}

/** The model input's value name. */
export const INPUT = 'input';

/** Why a layer cannot be exported; refuse.ts turns it into a positioned error. */
export class UnsupportedLayer extends Error {
  constructor(readonly layerIndex: number, message: string) {
    super(message);
    this.name = 'UnsupportedLayer';
  }
}

type Layout = 'first' | 'last';
type StepBody = ExportStep extends infer S ? (S extends ExportStep ? Omit<S, 'input' | 'output'> : never) : never;

export interface LayerExportContext {
  info: LayerInfo;
  weight(name: string): Float32Array;
  /** The value of input k; with a layout, in that layout (a 3-D value is transposed once if need be). */
  input(k?: number, layout?: Layout): string;
  /** Whether a value is a 3-D tensor held channels_first. */
  isChannelsFirst(value: string): boolean;
  /** The output of the layer's last step so far, or null. */
  last(): string | null;
  /** A value in a layout (transposed once if it is a 3-D value held the other way). */
  inLayout(value: string, layout: Layout): string;
  /**
   * Appends a step reading `input` (default: the last step's output, else
   * input 0 as it is) and returns its output, which holds `shape` (default
   * the layer's output shape) channels_first or not (default: as its input).
   */
  step(body: StepBody, options?: { input?: string; shape?: number[]; channelsFirst?: boolean }): string;
}

/** One layer type's export. The spec is the layer's entry in `layers:`; the last step's output is the layer's. */
export type LayerExporter = (spec: never, ctx: LayerExportContext) => void;

function padsOf(inHW: [number, number], k: [number, number], s: [number, number], d: [number, number], padding: Padding): Pads {
  const one = (size: number, i: 0 | 1) => {
    const { out, padBefore } = axis(size, k[i], s[i], d[i], padding);
    if (padding === 'valid') return [0, 0];
    const total = Math.max((out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - size, 0);
    return [padBefore, total - padBefore];
  };
  const [t, b] = one(inHW[0], 0), [l, r] = one(inHW[1], 1);
  return [t!, l!, b!, r!];
}

/** HWIO [kh, kw, in, out] -> OIHW [out, in, kh, kw]. */
export function hwioToOihw(w: Float32Array, kH: number, kW: number, inC: number, outC: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let h = 0; h < kH; h++) for (let x = 0; x < kW; x++) for (let i = 0; i < inC; i++) for (let o = 0; o < outC; o++) {
    out[((o * inC + i) * kH + h) * kW + x] = w[((h * kW + x) * inC + i) * outC + o]!;
  }
  return out;
}

/** The activation of a dense or conv2d layer (on its last step's output), or of an activation layer (on its input). */
function activationStep(a: ResolvedActivation, ctx: LayerExportContext): void {
  if (a.op === null) return; // linear: the layer's output is what came before
  const shape = ctx.info.outputShape; // an activation keeps its input's shape
  const x = ctx.last() ?? ctx.input(0);
  // Tessera's softmax runs over an example's values in Tessera's order.
  const input = a.op === 'softmax' && shape.length > 1 ? ctx.inLayout(x, 'last') : x;
  ctx.step({ kind: 'activation', layer: ctx.info.name, activation: a, shape: [...shape] }, { input });
}

interface Conv2dSpecLike { filters: number; kernel_size: Pair; strides?: Pair; dilation_rate?: Pair; padding?: Padding; activation?: never; use_bias?: boolean }
interface PoolSpecLike { pool_size?: Pair; strides?: Pair; padding?: Padding }

function poolStep(mode: 'max' | 'average', spec: PoolSpecLike, ctx: LayerExportContext): void {
  const [inH, inW] = ctx.info.inputShape as [number, number, number];
  const k = pair(spec.pool_size, 2);
  const s = spec.strides === undefined ? k : pair(spec.strides, 1);
  const pads = padsOf([inH, inW], k, s, [1, 1], spec.padding ?? 'valid');
  ctx.step({ kind: 'pool2d', layer: ctx.info.name, mode, kernelSize: k, strides: s, pads }, { input: ctx.input(0, 'first'), channelsFirst: true });
}

function mergeStep(op: 'add' | 'subtract' | 'multiply' | 'average', ctx: LayerExportContext): void {
  const n = ctx.info.inputs.length;
  const all = Array.from({ length: n }, (_, k) => ctx.input(k));
  // One layout for all: channels_first when any branch is held so (conv branches), else as they are.
  const layout: Layout = all.some((v) => ctx.isChannelsFirst(v)) ? 'first' : 'last';
  const inputs = all.map((_, k) => ctx.input(k, layout));
  ctx.step({ kind: 'merge', layer: ctx.info.name, op, inputs }, { input: inputs[0]!, channelsFirst: layout === 'first' && ctx.info.outputShape.length === 3 });
}

const NCHW_AXIS = [2, 3, 1]; // example axis h, w, c -> NCHW axis

export const EXPORTERS: Record<string, LayerExporter> = {
  flatten: (_spec, ctx) => { ctx.step({ kind: 'flatten' }, { input: ctx.input(0, 'last') }); },
  reshape: (_spec, ctx) => { ctx.step({ kind: 'reshape', shape: [...ctx.info.outputShape] }, { input: ctx.input(0, 'last'), channelsFirst: false }); },
  dropout: (spec: { rate: number }, ctx) => { ctx.step({ kind: 'dropout', layer: ctx.info.name, rate: spec.rate }, { input: ctx.input(0) }); },
  activation: (spec: { activation: never }, ctx) => activationStep(resolveActivation(spec.activation), ctx),
  dense: (spec: { units: number; activation: never; use_bias?: boolean }, ctx) => {
    const name = ctx.info.name, shape = ctx.info.inputShape;
    // [F], or a sequence [T, F] that the layer applies to position by position.
    const sequence = shape.length === 2, inFeatures = sequence ? shape[1]! : shape.reduce((a, b) => a * b, 1);
    const bias = spec.use_bias === false ? null : ctx.weight(`${name}/bias`);
    ctx.step({ kind: 'dense', layer: name, kernel: ctx.weight(`${name}/kernel`), bias, inFeatures, units: spec.units, sequence }, { input: ctx.input(0, 'last'), channelsFirst: false });
    activationStep(resolveActivation(spec.activation), ctx);
  },
  conv2d: (spec: Conv2dSpecLike, ctx) => {
    const name = ctx.info.name;
    const [inH, inW, inC] = ctx.info.inputShape as [number, number, number];
    const k = pair(spec.kernel_size, 1), s = pair(spec.strides, 1), d = pair(spec.dilation_rate, 1);
    const kernel = hwioToOihw(ctx.weight(`${name}/kernel`), k[0], k[1], inC, spec.filters);
    ctx.step({
      kind: 'conv2d', layer: name, kernelOIHW: kernel, bias: spec.use_bias === false ? null : ctx.weight(`${name}/bias`),
      inC, outC: spec.filters, kernelSize: k, strides: s, dilations: d, pads: padsOf([inH, inW], k, s, d, spec.padding ?? 'valid'),
    }, { input: ctx.input(0, 'first'), channelsFirst: true });
    activationStep(resolveActivation(spec.activation), ctx);
  },
  max_pooling2d: (spec: PoolSpecLike, ctx) => poolStep('max', spec, ctx),
  average_pooling2d: (spec: PoolSpecLike, ctx) => poolStep('average', spec, ctx),
  global_max_pooling2d: (_spec, ctx) => { ctx.step({ kind: 'global_pool2d', layer: ctx.info.name, mode: 'max' }, { input: ctx.input(0, 'first'), channelsFirst: false }); },
  global_average_pooling2d: (_spec, ctx) => { ctx.step({ kind: 'global_pool2d', layer: ctx.info.name, mode: 'average' }, { input: ctx.input(0, 'first'), channelsFirst: false }); },
  batch_normalization: (spec: { epsilon?: number; momentum?: number; center?: boolean; scale?: boolean }, ctx) => {
    const name = ctx.info.name, shape = ctx.info.inputShape;
    if (shape.length > 3) throw new UnsupportedLayer(ctx.info.index, `batch_normalization on a ${shape.length}-D input [${shape.join(', ')}] has no ONNX or PyTorch export here (only [C], [T, C] or [H, W, C])`);
    const spatial = shape.length === 3, channels = shape[shape.length - 1]!;
    // Without `scale` / `center` Keras keeps no gamma / beta: they are 1 and 0.
    ctx.step({
      kind: 'batch_norm', layer: name, channels, sequence: shape.length === 2, spatial,
      trainableGamma: spec.scale !== false, trainableBeta: spec.center !== false,
      gamma: spec.scale === false ? new Float32Array(channels).fill(1) : ctx.weight(`${name}/gamma`),
      beta: spec.center === false ? new Float32Array(channels) : ctx.weight(`${name}/beta`),
      mean: ctx.weight(`${name}/moving_mean`), variance: ctx.weight(`${name}/moving_variance`),
      epsilon: spec.epsilon ?? 0.001, momentum: spec.momentum ?? 0.99,
    }, { input: ctx.input(0, spatial ? 'first' : undefined), channelsFirst: spatial });
  },
  layer_normalization: (spec: { epsilon: number; center?: boolean; scale?: boolean }, ctx) => {
    const name = ctx.info.name, dim = ctx.info.inputShape[ctx.info.inputShape.length - 1]!;
    ctx.step({
      kind: 'layer_norm', layer: name, dim, epsilon: spec.epsilon, trainableGamma: spec.scale !== false, trainableBeta: spec.center !== false,
      gamma: spec.scale === false ? new Float32Array(dim).fill(1) : ctx.weight(`${name}/gamma`),
      beta: spec.center === false ? new Float32Array(dim) : ctx.weight(`${name}/beta`),
    }, { input: ctx.input(0, 'last') });
  },
  embedding: (spec: { input_dim: number; output_dim: number }, ctx) => {
    const name = ctx.info.name;
    ctx.step({ kind: 'embedding', layer: name, table: ctx.weight(`${name}/embeddings`), vocab: spec.input_dim, dim: spec.output_dim }, { input: ctx.input(0, 'last') });
  },
  position_embedding: (spec: { sequence_length: number }, ctx) => {
    const name = ctx.info.name, [T, D] = ctx.info.inputShape as [number, number];
    ctx.step({ kind: 'position_embedding', layer: name, table: ctx.weight(`${name}/embeddings`), length: spec.sequence_length, positions: T, dim: D }, { input: ctx.input(0) });
  },
  multi_head_attention: (spec: { num_heads: number; key_dim: number; value_dim?: number; use_bias: boolean; use_causal_mask: boolean; dropout: number }, ctx) => {
    const name = ctx.info.name, [T, F] = ctx.info.inputShape as [number, number];
    const bias = (w: string) => (spec.use_bias ? ctx.weight(`${name}/${w}/bias`) : null);
    ctx.step({
      kind: 'attention', layer: name, T, F, heads: spec.num_heads, keyDim: spec.key_dim, valueDim: spec.value_dim ?? spec.key_dim,
      causal: spec.use_causal_mask, dropout: spec.dropout, scale: Math.fround(1 / Math.sqrt(spec.key_dim)),
      query: ctx.weight(`${name}/query/kernel`), queryBias: bias('query'), key: ctx.weight(`${name}/key/kernel`), keyBias: bias('key'),
      value: ctx.weight(`${name}/value/kernel`), valueBias: bias('value'), outputKernel: ctx.weight(`${name}/attention_output/kernel`), outputBias: bias('attention_output'),
    }, { input: ctx.input(0, 'last') });
  },
  add: (_spec, ctx) => mergeStep('add', ctx),
  subtract: (_spec, ctx) => mergeStep('subtract', ctx),
  multiply: (_spec, ctx) => mergeStep('multiply', ctx),
  average: (_spec, ctx) => mergeStep('average', ctx),
  concatenate: (spec: { axis?: number }, ctx) => {
    const rank = ctx.info.inputShape.length;
    const a = (spec.axis ?? -1) < 0 ? rank + (spec.axis ?? -1) : spec.axis!; // an index into the example's shape
    const all = ctx.info.inputs.map((_, k) => ctx.input(k));
    const first = rank === 3 && all.every((v) => ctx.isChannelsFirst(v));
    const inputs = first ? all : all.map((_, k) => ctx.input(k, 'last'));
    ctx.step({ kind: 'concatenate', layer: ctx.info.name, axis: first ? NCHW_AXIS[a]! : a + 1, inputs }, { input: inputs[0]!, channelsFirst: first });
  },
};

export interface ExportOptions {
  /** The data's saved normalisation (weights metadata): (x − shift) / scale per feature. */
  normalize?: { method: string; shift: number[]; scale: number[] };
  /** The class names saved with the weights (default: "0", "1", …). */
  classNames?: string[];
  /** Default: EXPORTERS. */
  exporters?: Record<string, LayerExporter>;
}

/**
 * The steps of a compiled model with its weights (graph.params order).
 * Throws UnsupportedLayer for a layer type with no exporter.
 */
export function exportSteps(spec: ModelSpec, graph: Graph, params: Float32Array[], options: ExportOptions = {}): ExportPlan {
  const exporters = options.exporters ?? EXPORTERS;
  const byName = new Map(graph.params.map((p, i) => [p.name, params[i]!]));
  const weight = (name: string) => {
    const w = byName.get(name);
    if (!w) throw new Error(`export: the weights have no tensor '${name}'`);
    return w;
  };
  const { layers, topology } = inferLayers(spec);
  const steps: ExportStep[] = [];
  const values = new Map<string, { shape: number[]; channelsFirst: boolean }>([[INPUT, { shape: [...graph.inputShape], channelsFirst: false }]]);
  const transposed = new Map<string, string>(); // value -> the same value in the other layout
  let count = 0;
  const push = (step: ExportStep, shape: number[], channelsFirst: boolean) => {
    steps.push(step);
    values.set(step.output, { shape, channelsFirst });
    return step.output;
  };
  const inLayout = (v: string, layout: Layout | undefined): string => {
    const info = values.get(v)!;
    if (layout === undefined || info.shape.length !== 3 || info.channelsFirst === (layout === 'first')) return v;
    let t = transposed.get(v);
    if (!t) {
      t = push({ kind: layout === 'first' ? 'to_channels_first' : 'to_channels_last', input: v, output: `${v}:${layout === 'first' ? 'nchw' : 'nhwc'}` }, info.shape, layout === 'first');
      transposed.set(v, t);
      transposed.set(t, v);
    }
    return t;
  };
  // What the backends' first op does to the data, so the exported model takes the data as it is stored.
  const shape = [...graph.inputShape];
  const norm = options.normalize;
  let normalization: string;
  let normalized = INPUT;
  if (graph.inputDtype !== 'float32') {
    normalized = push({ kind: 'scale', factor: PIXEL_SCALE, input: INPUT, output: 'normalized' }, shape, false);
    normalization = `x * (1/255) (float32 ${PIXEL_SCALE}): raw pixel bytes 0..255 in, as tessera predict takes them`;
  } else if (norm) {
    normalized = push({ kind: 'normalize', shift: Float32Array.from(norm.shift), scale: Float32Array.from(norm.scale), shape, input: INPUT, output: 'normalized' }, shape, false);
    normalization = `(x - shift) / scale per feature (${norm.method} statistics of the training split, saved with the weights): raw feature values in`;
  } else {
    normalization = 'none: float32 features as the dataset holds them';
  }
  const outputs = new Map<number, string>([[MODEL_INPUT, normalized]]);
  for (const i of topology.order) {
    const info = layers[i]!;
    const exporter = exporters[info.type];
    if (!exporter) throw new UnsupportedLayer(info.index, `layer '${info.name}' (${info.type}) has no ONNX or PyTorch form, so the model cannot be exported`);
    const sources = topology.inputs[i]!.map((p) => outputs.get(p)!);
    let last: string | null = null;
    const ctx: LayerExportContext = {
      info, weight,
      input: (k = 0, layout) => inLayout(sources[k]!, layout),
      isChannelsFirst: (v) => values.get(v)!.channelsFirst,
      last: () => last,
      inLayout,
      step(body, options = {}) {
        const input = options.input ?? last ?? sources[0]!;
        const from = values.get(input)!;
        const output = `${info.name}:${count++}`;
        last = push({ ...body, input, output } as ExportStep, options.shape ?? [...info.outputShape], options.channelsFirst ?? from.channelsFirst);
        return last;
      },
    };
    exporter(spec.layers[i] as never, ctx);
    outputs.set(i, last ?? sources[0]!);
  }
  const output = inLayout(outputs.get(spec.layers.length - 1)!, 'last');
  return {
    name: graph.name,
    inputShape: [...graph.inputShape],
    classes: graph.classes,
    classNames: options.classNames ?? Array.from({ length: graph.classes }, (_, i) => String(i)),
    normalization,
    steps,
    output,
    outputShape: [...layers[spec.layers.length - 1]!.outputShape],
  };
}
