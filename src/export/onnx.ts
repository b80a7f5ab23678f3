// Export steps (steps.ts) -> an ONNX model (opset 17, IR version 8), encoded
// by the protobufjs messages of the `onnx-proto` package; nothing here
// writes protobuf by hand.
//
//   input  "input"   float32 [batch, ...input_shape], raw pixel values 0..255
//   output "logits"  float32 [batch, classes] (or "probabilities" with softmax)
//
// The batch axis is the symbolic dimension "batch". Weights are
// initializers named after Tessera's parameters (dense_1/kernel, …); the
// model's name, class names, input normalisation and producer are metadata.
// Dropout is left out (ONNX models are for inference), attention's too. GELU is written out
// with Erf (or Tanh for the approximation): Gelu itself is opset 20.
// Browser-safe: the page's "Download ONNX" uses it too.

import onnxProto, { type onnx as OnnxTypes } from 'onnx-proto';
import { INPUT, type ExportPlan, type ExportStep } from './steps.js';

const { onnx } = onnxProto;
type INode = OnnxTypes.INodeProto;
type ITensor = OnnxTypes.ITensorProto;
type IAttr = OnnxTypes.IAttributeProto;

export const ONNX_OPSET = 17;
const IR_VERSION = 8; // the IR of opset 17 (ONNX 1.12)
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const A = onnx.AttributeProto.AttributeType;

export interface OnnxExportOptions {
  /** Append a softmax: the output is "probabilities" instead of "logits". */
  softmax?: boolean;
  /** Producer version in the file (Tessera's package version). */
  producerVersion?: string;
}

const attrInt = (name: string, i: number): IAttr => ({ name, type: A.INT, i });
const attrFloat = (name: string, f: number): IAttr => ({ name, type: A.FLOAT, f });
const attrInts = (name: string, ints: number[]): IAttr => ({ name, type: A.INTS, ints });

const bytesOf = (a: Float32Array | BigInt64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
/** Raw data is little-endian; so is every platform Tessera runs on (the weights files assume it too). */
const floatTensor = (name: string, dims: number[], data: Float32Array): ITensor => ({ name, dataType: FLOAT, dims, rawData: bytesOf(data) });
const int64Tensor = (name: string, values: number[]): ITensor => ({ name, dataType: INT64, dims: [values.length], rawData: bytesOf(BigInt64Array.from(values.map(BigInt))) });

/** Nodes and initializers, with fresh value names. */
class GraphWriter {
  readonly nodes: INode[] = [];
  readonly initializers: ITensor[] = [];
  private count = 0;
  private constants = new Map<number, string>();

  constructor(public current: string) {}

  /** Adds a node reading `inputs` (the current value first unless given) and makes its output current. */
  node(opType: string, name: string, extraInputs: string[], attribute: IAttr[] = [], input?: string): string {
    const output = `${name}#${this.count++}`; // apart from the steps' value names (`<layer>:<n>`)
    this.nodes.push({ opType, name: `${name}/${opType}#${this.count}`, input: [input ?? this.current, ...extraInputs], output: [output], attribute });
    this.current = output;
    return output;
  }

  weight(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push(floatTensor(name, dims, data));
    return name;
  }

  /** A float scalar constant, shared by every node that uses the same value. */
  scalar(value: number): string {
    const f = Math.fround(value);
    let name = this.constants.get(f);
    if (!name) {
      name = `const/${f}`;
      this.constants.set(f, name);
      this.initializers.push(floatTensor(name, [], new Float32Array([f])));
    }
    return name;
  }

  /** An int64 shape constant (for Reshape); named apart from node outputs (`<layer>:<n>`). */
  shape(layer: string, dims: number[]): string {
    const name = `${layer}/shape#${this.initializers.length}`;
    this.initializers.push(int64Tensor(name, dims));
    return name;
  }

  /** Gives the current value (the last node's output) the name `name`. */
  rename(name: string): void {
    const node = this.nodes.find((n) => n.output?.[0] === this.current);
    if (!node?.output) this.node('Identity', name, []); // the value is a graph input (or an alias of one)
    else node.output[0] = name;
    this.current = name;
  }
}

function activation(w: GraphWriter, step: Extract<ExportStep, { kind: 'activation' }>): void {
  const { layer, activation: a } = step;
  const x = w.current;
  switch (a.op) {
    case 'relu': w.node('Relu', layer, []); return;
    case 'sigmoid': w.node('Sigmoid', layer, []); return;
    case 'tanh': w.node('Tanh', layer, []); return;
    case 'softplus': w.node('Softplus', layer, []); return;
    case 'leaky_relu': w.node('LeakyRelu', layer, [], [attrFloat('alpha', a.alpha)]); return;
    case 'elu': w.node('Elu', layer, [], [attrFloat('alpha', a.alpha)]); return;
    case 'silu': {
      const s = w.node('Sigmoid', layer, []);
      w.node('Mul', layer, [s], [], x);
      return;
    }
    case 'gelu': { // 0.5·x·(1 + erf(x/√2))
      w.node('Mul', layer, [w.scalar(Math.SQRT1_2)]);
      w.node('Erf', layer, []);
      w.node('Add', layer, [w.scalar(1)]);
      w.node('Mul', layer, [x]);
      w.node('Mul', layer, [w.scalar(0.5)]);
      return;
    }
    case 'gelu_tanh': { // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
      const x2 = w.node('Mul', layer, [x]);
      w.node('Mul', layer, [x], [], x2);
      w.node('Mul', layer, [w.scalar(0.044715)]);
      w.node('Add', layer, [x]);
      w.node('Mul', layer, [w.scalar(Math.sqrt(2 / Math.PI))]);
      w.node('Tanh', layer, []);
      w.node('Add', layer, [w.scalar(1)]);
      w.node('Mul', layer, [x]);
      w.node('Mul', layer, [w.scalar(0.5)]);
      return;
    }
    case 'softmax': {
      if (step.shape.length === 1) { w.node('Softmax', layer, [], [attrInt('axis', -1)]); return; }
      // Tessera's softmax runs over all of an example's values.
      w.node('Flatten', layer, [], [attrInt('axis', 1)]);
      w.node('Softmax', layer, [], [attrInt('axis', -1)]);
      w.node('Reshape', layer, [w.shape(layer, [-1, ...step.shape])]);
      return;
    }
    default: throw new Error(`export: no ONNX form for the activation '${a.name}'`);
  }
}

/** Self-attention on [B, T, F]: projections, heads as [B, H, T, d], masked softmax, values, output projection. */
function attention(w: GraphWriter, step: Extract<ExportStep, { kind: 'attention' }>): void {
  const { layer, T, F, heads: H, keyDim: dk, valueDim: dv } = step;
  const x = w.current;
  // [B, T, H·d] -> [B, H, T, d] (`perm`), from x's projection by `kernel`.
  const heads = (name: string, kernel: Float32Array, bias: Float32Array | null, d: number, perm: number[]) => {
    w.node('MatMul', layer, [w.weight(`${layer}/${name}/kernel`, [F, H * d], kernel)], [], x);
    if (bias) w.node('Add', layer, [w.weight(`${layer}/${name}/bias`, [H * d], bias)]);
    w.node('Reshape', layer, [w.shape(layer, [0, 0, H, d])]); // 0: the batch and T as they are
    return w.node('Transpose', layer, [], [attrInts('perm', perm)]);
  };
  const q = heads('query', step.query, step.queryBias, dk, [0, 2, 1, 3]);
  const kT = heads('key', step.key, step.keyBias, dk, [0, 2, 3, 1]);
  const v = heads('value', step.value, step.valueBias, dv, [0, 2, 1, 3]);
  w.node('MatMul', layer, [kT], [], q);
  w.node('Mul', layer, [w.scalar(step.scale)]);
  if (step.causal) {
    // Later positions get a large negative score: exp() of it is exactly 0, as Tessera skips them.
    const mask = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
    w.node('Add', layer, [w.weight(`${layer}/causal_mask`, [T, T], mask)]);
  }
  w.node('Softmax', layer, [], [attrInt('axis', -1)]);
  w.node('MatMul', layer, [v]);
  w.node('Transpose', layer, [], [attrInts('perm', [0, 2, 1, 3])]);
  w.node('Reshape', layer, [w.shape(layer, [0, 0, H * dv])]);
  w.node('MatMul', layer, [w.weight(`${layer}/attention_output/kernel`, [H * dv, F], step.outputKernel)]);
  if (step.outputBias) w.node('Add', layer, [w.weight(`${layer}/attention_output/bias`, [F], step.outputBias)]);
}

function writeStep(w: GraphWriter, step: ExportStep): void {
  switch (step.kind) {
    case 'scale': w.node('Mul', 'normalize', [w.scalar(step.factor)]); return;
    case 'normalize':
      w.node('Sub', 'normalize', [w.weight('input/shift', step.shape, step.shift)]);
      w.node('Div', 'normalize', [w.weight('input/scale', step.shape, step.scale)]);
      return;
    case 'merge': {
      const [first, ...rest] = step.inputs;
      const op = step.op === 'subtract' ? 'Sub' : step.op === 'multiply' ? 'Mul' : 'Add';
      w.current = first!;
      for (const b of rest) w.node(op, step.layer, [b]);
      if (step.op === 'average') w.node('Mul', step.layer, [w.scalar(1 / step.inputs.length)]);
      return;
    }
    case 'concatenate': {
      const [first, ...rest] = step.inputs;
      w.node('Concat', step.layer, rest, [attrInt('axis', step.axis)], first);
      return;
    }
    case 'to_channels_first': w.node('Transpose', 'to_channels_first', [], [attrInts('perm', [0, 3, 1, 2])]); return;
    case 'to_channels_last': w.node('Transpose', 'to_channels_last', [], [attrInts('perm', [0, 2, 3, 1])]); return;
    case 'flatten': w.node('Flatten', 'flatten', [], [attrInt('axis', 1)]); return;
    case 'reshape': w.node('Reshape', 'reshape', [w.shape('reshape', [-1, ...step.shape])]); return;
    case 'dropout': return; // identity at inference
    case 'dense': {
      const W = w.weight(`${step.layer}/kernel`, [step.inFeatures, step.units], step.kernel);
      const b = step.bias ? w.weight(`${step.layer}/bias`, [step.units], step.bias) : null;
      // Gemm takes 2-D inputs only; MatMul broadcasts over a sequence's positions.
      if (b && !step.sequence) w.node('Gemm', step.layer, [W, b]);
      else {
        w.node('MatMul', step.layer, [W]);
        if (b) w.node('Add', step.layer, [b]);
      }
      return;
    }
    case 'conv2d': {
      const W = w.weight(`${step.layer}/kernel`, [step.outC, step.inC, ...step.kernelSize], step.kernelOIHW);
      const inputs = step.bias ? [W, w.weight(`${step.layer}/bias`, [step.outC], step.bias)] : [W];
      w.node('Conv', step.layer, inputs, [
        attrInts('kernel_shape', step.kernelSize), attrInts('strides', step.strides),
        attrInts('dilations', step.dilations), attrInts('pads', step.pads), attrInt('group', 1),
      ]);
      return;
    }
    case 'pool2d': {
      const attrs = [attrInts('kernel_shape', step.kernelSize), attrInts('strides', step.strides), attrInts('pads', step.pads)];
      // Tessera's average excludes the padding (Keras/TensorFlow), as count_include_pad = 0 does.
      if (step.mode === 'max') w.node('MaxPool', step.layer, [], attrs);
      else w.node('AveragePool', step.layer, [], [...attrs, attrInt('count_include_pad', 0)]);
      return;
    }
    case 'global_pool2d':
      w.node(step.mode === 'max' ? 'GlobalMaxPool' : 'GlobalAveragePool', step.layer, []);
      w.node('Flatten', step.layer, [], [attrInt('axis', 1)]);
      return;
    case 'batch_norm': {
      const p = (n: string, d: Float32Array) => w.weight(`${step.layer}/${n}`, [step.channels], d);
      // BatchNormalization's channels are axis 1: a sequence [B, T, C] is transposed there and back.
      if (step.sequence) w.node('Transpose', step.layer, [], [attrInts('perm', [0, 2, 1])]);
      w.node('BatchNormalization', step.layer, [p('gamma', step.gamma), p('beta', step.beta), p('moving_mean', step.mean), p('moving_variance', step.variance)], [attrFloat('epsilon', step.epsilon)]);
      if (step.sequence) w.node('Transpose', step.layer, [], [attrInts('perm', [0, 2, 1])]);
      return;
    }
    case 'activation': activation(w, step); return;
    case 'attention': attention(w, step); return;
    case 'layer_norm': {
      const p = (n: string, d: Float32Array) => w.weight(`${step.layer}/${n}`, [step.dim], d);
      w.node('LayerNormalization', step.layer, [p('gamma', step.gamma), p('beta', step.beta)], [attrInt('axis', -1), attrFloat('epsilon', step.epsilon)]);
      return;
    }
    case 'embedding': {
      w.node('Clip', step.layer, [w.scalar(0), w.scalar(step.vocab - 1)]);
      w.node('Cast', step.layer, [], [attrInt('to', INT64)]); // truncates, as Tessera's op
      w.node('Gather', step.layer, [w.current], [attrInt('axis', 0)], w.weight(`${step.layer}/embeddings`, [step.vocab, step.dim], step.table));
      return;
    }
    case 'position_embedding':
      // Only the first T rows are ever used.
      w.node('Add', step.layer, [w.weight(`${step.layer}/embeddings`, [step.positions, step.dim], step.table.subarray(0, step.positions * step.dim))]);
      return;
  }
}

const tensorType = (dims: (number | string)[]) => ({
  tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } },
});

/** The ONNX model of an export plan, as the bytes of a .onnx file. */
export function encodeOnnx(plan: ExportPlan, options: OnnxExportOptions = {}): Uint8Array {
  const w = new GraphWriter(INPUT);
  // Dropout writes no node: its output is another name for its input.
  const alias = new Map<string, string>();
  const named = (v: string) => alias.get(v) ?? v;
  for (const step of plan.steps) {
    if (step.kind === 'dropout') { alias.set(step.output, named(step.input)); continue; }
    const s = { ...step, input: named(step.input), ...(step.kind === 'merge' || step.kind === 'concatenate' ? { inputs: step.inputs.map(named) } : {}) } as ExportStep;
    w.current = s.input;
    writeStep(w, s);
    w.rename(step.output);
  }
  w.current = named(plan.output);
  if (options.softmax) w.node('Softmax', 'probabilities', [], [attrInt('axis', -1)]);
  const output = options.softmax ? 'probabilities' : 'logits';
  w.rename(output);
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'tessera',
    producerVersion: options.producerVersion ?? '',
    docString: `${plan.name}: exported by Tessera. Input: ${plan.normalization}. Output: ${output} over ${plan.classes} classes.`,
    metadataProps: [
      { key: 'model_name', value: plan.name },
      { key: 'class_names', value: JSON.stringify(plan.classNames) },
      { key: 'input_normalization', value: plan.normalization },
      { key: 'output', value: output },
    ],
    graph: {
      name: plan.name,
      input: [{ name: 'input', type: tensorType(['batch', ...plan.inputShape]), docString: plan.normalization }],
      output: [{ name: output, type: tensorType(['batch', ...plan.outputShape]) }],
      initializer: w.initializers,
      node: w.nodes,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
