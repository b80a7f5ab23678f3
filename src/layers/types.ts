// What a layer type is: its shape inference (which reports config errors
// against the layer's YAML path) and its lowering into graph ops, with the
// backward ops of its gradient. One file per layer type; src/layers/index.ts
// lists them. src/config/shapes.ts and the graph compiler
// (src/runtime/graph.ts) walk these files and know no layer by name.
//
// Layers take their inputs as a list of tensors, so layers with several
// inputs (residual adds, concatenation) fit the same shape.

import type { LayerSpec, ModelSpec } from '../config/types.js';
import type { ShapeIssue } from '../config/shapes.js';
import type { OpRecordBase } from '../ops/types.js';

export interface ParamDecl {
  /** Keras's weight name within the layer: 'kernel', 'bias', … */
  name: string;
  shape: number[];
  init: 'glorot_uniform' | 'uniform' | 'zeros' | 'ones';
  fanIn: number;
  fanOut: number;
  /**
   * False for a non-trainable weight (batch normalization's moving
   * statistics): saved and loaded with the others, but it has no gradient
   * and the optimizer never updates it; its ops write it. Default true.
   */
  trainable?: boolean;
  /** The layer's kernel_regularizer (Keras L1L2): its gradient l1·sign(p) + 2·l2·p joins the loss's. */
  regularizer?: Regularizer;
}

/** Keras's L1L2 regularizer: penalty l1·Σ|p| + l2·Σp². */
export interface Regularizer { l1: number; l2: number }

/** What shape inference says about one layer (shapes without the batch dimension). */
export interface InferResult {
  outputShape: number[];
  params: ParamDecl[];
  /** For summaries: the layer's activation, when it has one. */
  activation?: string;
}

/** Where the layer is and how to report problems with it. */
export interface InferContext {
  /** Path of the layer in the document, e.g. ['layers', 3]. */
  path: (string | number)[];
  /** Names of the layer's inputs (`input`: the model input), for messages; absent where lowering re-infers. */
  inputNames?: string[];
  error(issue: ShapeIssue): void;
  warn(issue: ShapeIssue): void;
  spec: ModelSpec;
}

/** A value flowing between layers: a per-row graph buffer. */
export interface Tensor {
  buffer: string;
  shape: number[];
  /** Values per example (product of shape). */
  features: number;
  /** Whether any layer below has parameters (so a gradient must flow into this tensor). */
  needsGrad: boolean;
  /** Set when the buffer is a ReLU output, so a consumer's input-gradient op may apply the mask itself. */
  reluOutput: boolean;
}

/** A gradient arriving at a tensor: its buffer, and whether the ReLU mask of that tensor was already applied. */
export interface Grad {
  buffer: string;
  /** True when the producer's fused ReLU backward has already been applied (dense_backward_input with reluOut). */
  reluApplied: boolean;
}

/** What lowering may do: add buffers, parameters and ops. */
export interface GraphBuilder {
  batchSize: number;
  seed: number;
  /** An activation buffer (per row). */
  activation(name: string, features: number): string;
  /** A gradient buffer (per row). */
  gradient(name: string, features: number): string;
  /** The parameter's buffer name (`<layer>/<name>`); its gradient is `<param>:grad`. */
  param(layer: string, decl: ParamDecl): string;
  /** A non-per-row buffer an op keeps between its forward and backward (batch statistics): `floats` values, not saved. */
  batchState(name: string, floats: number): string;
  forward(op: OpRecordBase): void;
  /** A forward op of training whose place in inference (evaluate, predict) another op takes (batch vs moving statistics). */
  forwardModes(train: OpRecordBase, inference: OpRecordBase): void;
  /** A forward op that runs only in training; in inference its output is an alias of `input`. */
  trainOnly(op: OpRecordBase, input: string, output: string): void;
  backward(op: OpRecordBase): void;
  /** The dropout RNG stream of the layer at `index`. */
  stream(index: number): number;
}

export interface LoweredLayer {
  output: Tensor;
  /**
   * Emits the backward ops given dLoss/d(output); returns the gradient for
   * each input (null where none is needed). Absent for layers that only
   * rename (flatten, reshape): the gradient passes through unchanged.
   */
  backward?: (dOut: Grad) => (Grad | null)[];
}

export interface LayerInfoLike { name: string; index: number; outputShape: number[] }

export interface LayerDef<S extends LayerSpec = LayerSpec> {
  type: S['type'];
  /** How many inputs the layer takes, [least, most] (default [1, 1]); merge layers take two or more. */
  inputCount?: readonly [number, number];
  infer(spec: S, inputShapes: number[][], ctx: InferContext): InferResult;
  lower(spec: S, info: LayerInfoLike, inputs: Tensor[], g: GraphBuilder): LoweredLayer;
}

export const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
export const fmtShape = (shape: readonly number[]): string => `[${shape.join(', ')}]`;
