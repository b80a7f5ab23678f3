// The exporters' shared view of a model: its layers as a list of steps in
// the layout other frameworks use, with the weights already in their
// layouts. Both the ONNX writer (onnx.ts) and the PyTorch writer
// (pytorch.ts) read these steps, so the layout decisions are made once:
//
// - Tessera is channels_last (NHWC) throughout; ONNX's Conv/Pool and
//   PyTorch's conv/pool are channels_first (NCHW). A 3-D tensor is moved to
//   channels_first right before the first spatial step that needs it and
//   back to channels_last before a step that depends on the element order
//   (flatten, reshape): so Tessera's flatten order, and with it the dense
//   kernels, stay as they are.
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
import type { LayerInfo } from '../config/shapes.js';
import { PIXEL_SCALE } from '../ops/gather.js';
import { axis } from '../ops/conv-geometry.js';
import { resolveActivation, type ResolvedActivation } from '../layers/activation-lowering.js';
import { pair } from '../layers/spatial.js';
import type { Graph } from '../runtime/graph.js';

/** Pads of one window op: [top, left, bottom, right]. */
export type Pads = [number, number, number, number];

export type ExportStep =
  | { kind: 'scale'; factor: number }
  | { kind: 'to_channels_first' }
  | { kind: 'to_channels_last' }
  | { kind: 'flatten' }
  | { kind: 'reshape'; shape: number[] }
  /** `sequence`: the input is [T, F] and the layer acts on its last axis (F = `inputs`). */
  | { kind: 'dense'; layer: string; kernel: Float32Array; bias: Float32Array | null; inputs: number; units: number; sequence: boolean }
  | {
      kind: 'conv2d'; layer: string; kernelOIHW: Float32Array; bias: Float32Array | null; inC: number; outC: number;
      kernelSize: [number, number]; strides: [number, number]; dilations: [number, number]; pads: Pads;
    }
  | { kind: 'pool2d'; layer: string; mode: 'max' | 'average'; kernelSize: [number, number]; strides: [number, number]; pads: Pads }
  | { kind: 'global_pool2d'; layer: string; mode: 'max' | 'average' }
  /** Over the last axis of [C], [T, C] (`sequence`) or [H, W, C] (held channels_first by then). */
  | { kind: 'batch_norm'; layer: string; channels: number; sequence: boolean; trainableGamma: boolean; trainableBeta: boolean; gamma: Float32Array; beta: Float32Array; mean: Float32Array; variance: Float32Array; epsilon: number; momentum: number }
  /**
   * Elementwise, in any layout; except softmax, which Tessera takes over all
   * of an example's values (its op sees rows of `features`): on a tensor of
   * more than one axis (`shape`, channels_last) the writers flatten, apply
   * it and reshape back.
   */
  | { kind: 'activation'; layer: string; activation: ResolvedActivation; shape: number[] }
  | { kind: 'dropout'; layer: string; rate: number };

/** A whole model as steps, with what the writers put in metadata. */
export interface ExportPlan {
  name: string;
  inputShape: number[];
  classes: number;
  classNames: string[];
  /** What the first step does to the raw input, in words. */
  normalization: string;
  steps: ExportStep[];
}

/** Why a layer cannot be exported; refuse.ts turns it into a positioned error. */
export class UnsupportedLayer extends Error {
  constructor(readonly layerIndex: number, message: string) {
    super(message);
    this.name = 'UnsupportedLayer';
  }
}

interface Cursor {
  /** The current tensor's shape as Tessera sees it (channels_last, no batch). */
  shape: number[];
  /** Whether a 3-D tensor is now held channels_first. */
  channelsFirst: boolean;
}

type WeightOf = (name: string) => Float32Array;

export interface LayerExportContext {
  info: LayerInfo;
  cursor: Cursor;
  weight: WeightOf;
  /** Emit a step. */
  emit(step: ExportStep): void;
  /** Before a spatial step: a 3-D tensor moves to channels_first. */
  channelsFirst(): void;
  /** Before an order-dependent step: back to channels_last. */
  channelsLast(): void;
}

/** One layer type's export: appends its steps. The spec is the layer's entry in `layers:`. */
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

function activationStep(layer: string, a: ResolvedActivation, ctx: LayerExportContext): void {
  if (a.op === null) return;
  const shape = ctx.info.outputShape; // an activation keeps its input's shape
  if (a.op === 'softmax' && shape.length > 1) ctx.channelsLast();
  ctx.emit({ kind: 'activation', layer, activation: a, shape: [...shape] });
}

interface Conv2dSpecLike { filters: number; kernel_size: Pair; strides?: Pair; dilation_rate?: Pair; padding?: Padding; activation?: never; use_bias?: boolean }
interface PoolSpecLike { type: string; pool_size?: Pair; strides?: Pair; padding?: Padding }

export const EXPORTERS: Record<string, LayerExporter> = {
  flatten: (_spec, ctx) => { ctx.channelsLast(); ctx.emit({ kind: 'flatten' }); },
  reshape: (_spec, ctx) => { ctx.channelsLast(); ctx.emit({ kind: 'reshape', shape: [...ctx.info.outputShape] }); },
  dropout: (spec: { rate: number }, ctx) => ctx.emit({ kind: 'dropout', layer: ctx.info.name, rate: spec.rate }),
  activation: (spec: { activation: never }, ctx) => activationStep(ctx.info.name, resolveActivation(spec.activation), ctx),
  dense: (spec: { units: number; activation: never; use_bias?: boolean }, ctx) => {
    const name = ctx.info.name, shape = ctx.info.inputShape;
    // [F], or a sequence [T, F] that the layer applies to position by position.
    const sequence = shape.length === 2, inputs = sequence ? shape[1]! : shape.reduce((a, b) => a * b, 1);
    ctx.emit({ kind: 'dense', layer: name, kernel: ctx.weight(`${name}/kernel`), bias: spec.use_bias === false ? null : ctx.weight(`${name}/bias`), inputs, units: spec.units, sequence });
    activationStep(name, resolveActivation(spec.activation), ctx);
  },
  conv2d: (spec: Conv2dSpecLike, ctx) => {
    ctx.channelsFirst();
    const name = ctx.info.name;
    const [inH, inW, inC] = ctx.info.inputShape as [number, number, number];
    const k = pair(spec.kernel_size, 1), s = pair(spec.strides, 1), d = pair(spec.dilation_rate, 1);
    const kernel = hwioToOihw(ctx.weight(`${name}/kernel`), k[0], k[1], inC, spec.filters);
    ctx.emit({
      kind: 'conv2d', layer: name, kernelOIHW: kernel, bias: spec.use_bias === false ? null : ctx.weight(`${name}/bias`),
      inC, outC: spec.filters, kernelSize: k, strides: s, dilations: d, pads: padsOf([inH, inW], k, s, d, spec.padding ?? 'valid'),
    });
    activationStep(name, resolveActivation(spec.activation), ctx);
  },
  max_pooling2d: (spec: PoolSpecLike, ctx) => poolStep('max', spec, ctx),
  average_pooling2d: (spec: PoolSpecLike, ctx) => poolStep('average', spec, ctx),
  global_max_pooling2d: (_spec, ctx) => { ctx.channelsFirst(); ctx.emit({ kind: 'global_pool2d', layer: ctx.info.name, mode: 'max' }); },
  global_average_pooling2d: (_spec, ctx) => { ctx.channelsFirst(); ctx.emit({ kind: 'global_pool2d', layer: ctx.info.name, mode: 'average' }); },
  batch_normalization: (spec: { epsilon?: number; momentum?: number; center?: boolean; scale?: boolean }, ctx) => {
    const name = ctx.info.name, shape = ctx.info.inputShape;
    if (shape.length === 3) ctx.channelsFirst();
    else if (shape.length > 3) throw new UnsupportedLayer(ctx.info.index, `batch_normalization on a ${shape.length}-D input [${shape.join(', ')}] has no ONNX or PyTorch export here (only [C], [T, C] or [H, W, C])`);
    const channels = shape[shape.length - 1]!;
    // Without `scale` / `center` Keras keeps no gamma / beta: they are 1 and 0.
    ctx.emit({
      kind: 'batch_norm', layer: name, channels, sequence: shape.length === 2, trainableGamma: spec.scale !== false, trainableBeta: spec.center !== false,
      gamma: spec.scale === false ? new Float32Array(channels).fill(1) : ctx.weight(`${name}/gamma`),
      beta: spec.center === false ? new Float32Array(channels) : ctx.weight(`${name}/beta`),
      mean: ctx.weight(`${name}/moving_mean`), variance: ctx.weight(`${name}/moving_variance`),
      epsilon: spec.epsilon ?? 0.001, momentum: spec.momentum ?? 0.99,
    });
  },
};

function poolStep(mode: 'max' | 'average', spec: PoolSpecLike, ctx: LayerExportContext): void {
  ctx.channelsFirst();
  const [inH, inW] = ctx.info.inputShape as [number, number, number];
  const k = pair(spec.pool_size, 2);
  const s = spec.strides === undefined ? k : pair(spec.strides, 1);
  ctx.emit({ kind: 'pool2d', layer: ctx.info.name, mode, kernelSize: k, strides: s, pads: padsOf([inH, inW], k, s, [1, 1], spec.padding ?? 'valid') });
}

/**
 * The steps of a compiled model with its weights (graph.params order).
 * Throws UnsupportedLayer for a layer type with no exporter.
 */
export function exportSteps(spec: ModelSpec, graph: Graph, params: Float32Array[], exporters: Record<string, LayerExporter> = EXPORTERS): ExportPlan {
  const byName = new Map(graph.params.map((p, i) => [p.name, params[i]!]));
  const weight: WeightOf = (name) => {
    const w = byName.get(name);
    if (!w) throw new Error(`export: the weights have no tensor '${name}'`);
    return w;
  };
  const steps: ExportStep[] = [{ kind: 'scale', factor: PIXEL_SCALE }];
  const cursor: Cursor = { shape: [...graph.inputShape], channelsFirst: false };
  for (const info of graph.layers) {
    const exporter = exporters[info.type];
    if (!exporter) throw new UnsupportedLayer(info.index, `layer '${info.name}' (${info.type}) has no ONNX or PyTorch form, so the model cannot be exported`);
    const ctx: LayerExportContext = {
      info, cursor, weight, emit: (s) => steps.push(s),
      channelsFirst() {
        if (cursor.shape.length === 3 && !cursor.channelsFirst) { steps.push({ kind: 'to_channels_first' }); cursor.channelsFirst = true; }
      },
      channelsLast() {
        if (cursor.channelsFirst) { steps.push({ kind: 'to_channels_last' }); cursor.channelsFirst = false; }
      },
    };
    exporter(spec.layers[info.index] as never, ctx);
    cursor.shape = [...info.outputShape];
    // A global pool leaves [channels]: no layout any more.
    if (cursor.shape.length !== 3) cursor.channelsFirst = false;
  }
  if (cursor.channelsFirst) steps.push({ kind: 'to_channels_last' });
  return {
    name: graph.name,
    inputShape: [...graph.inputShape],
    classes: graph.classes,
    classNames: Array.from({ length: graph.classes }, (_, i) => String(i)),
    normalization: `x * (1/255) (float32 ${PIXEL_SCALE}): raw pixel bytes 0..255 in, as tessera predict takes them`,
    steps,
  };
}
