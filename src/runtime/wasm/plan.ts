// Encodes a Graph's op lists into the i32 records that kernels/as/step.ts
// interprets (keep the op codes and fields in sync with that file).

import type { Graph, Op } from '../graph.js';
import { dropoutScale, dropoutThreshold } from '../rng.js';

export const OP_WORDS = 16;
export const OP = {
  gather: 1,
  dense_forward: 2,
  dropout: 3,
  softmax_xent: 4,
  dense_backward_weights: 5,
  dense_backward_input: 6,
  relu_backward: 7,
  adam: 8,
  transpose: 9,
  /** The dense ops run by a custom kernel (the built-in module's env.custom_<op> imports); same records. */
  custom_dense_forward: 10,
  custom_dense_backward_weights: 11,
  custom_dense_backward_input: 12,
} as const;

/** Ops whose records use the custom op codes (custom kernels given to the backend). */
export type CustomOps = ReadonlySet<'dense_forward' | 'dense_backward_weights' | 'dense_backward_input'>;

function withCustom(op: Op, record: number[], custom: CustomOps): number[] {
  if ((op.kind === 'dense_forward' || op.kind === 'dense_backward_weights' || op.kind === 'dense_backward_input') && custom.has(op.kind)) {
    record[0] = OP[`custom_${op.kind}`];
  }
  return record;
}

export interface PlanLayout {
  /** Byte offset of a graph buffer. */
  ptr(name: string): number;
  /** Byte offset of the transposed copy of a kernel (only those read by dense_backward_input). */
  transposed(name: string): number;
  labels: number;
}

const f32Bits = (x: number) => new Int32Array(new Float32Array([x]).buffer)[0];

/** Kernels that dense_backward_input reads, which therefore keep a transposed copy. */
export function transposedKernels(graph: Graph): Map<string, { k: number; n: number }> {
  const out = new Map<string, { k: number; n: number }>();
  for (const op of graph.backward) if (op.kind === 'dense_backward_input') out.set(op.w, { k: op.k, n: op.n });
  return out;
}

/**
 * The gathered input (pixels, ~80% zeros on MNIST) is the one buffer whose
 * zeros the matmuls skip: dense_forward and dense_backward_weights reading it
 * run sparse. Hidden activations are not sparse enough for it to pay.
 */
function sparseInputs(graph: Graph): Set<string> {
  return new Set(graph.forward.flatMap((op) => (op.kind === 'gather' ? [op.x] : [])));
}

function encodeOp(op: Op, L: PlanLayout, sparse: Set<string>): number[] {
  const ptr = (name: string | null) => (name === null ? 0 : L.ptr(name));
  switch (op.kind) {
    case 'gather': return [OP.gather, ptr(op.x), op.features, L.labels];
    case 'dense_forward': return [OP.dense_forward, ptr(op.x), ptr(op.w), ptr(op.b), ptr(op.y), op.k, op.n, op.relu ? 1 : 0, sparse.has(op.x) ? 1 : 0];
    case 'dropout': return [OP.dropout, ptr(op.x), ptr(op.y), op.features, op.stream, dropoutThreshold(op.rate), f32Bits(dropoutScale(op.rate))];
    case 'dropout_backward': return [OP.dropout, ptr(op.dy), ptr(op.dx), op.features, op.stream, dropoutThreshold(op.rate), f32Bits(dropoutScale(op.rate))];
    case 'softmax_xent': return [OP.softmax_xent, ptr(op.logits), ptr(op.dlogits), op.classes, L.labels];
    case 'dense_backward_weights': return [OP.dense_backward_weights, ptr(op.x), ptr(op.dy), ptr(op.dw), ptr(op.db), op.k, op.n, sparse.has(op.x) ? 1 : 0];
    case 'dense_backward_input': return [OP.dense_backward_input, ptr(op.dy), L.transposed(op.w), ptr(op.dx), ptr(op.reluOut), op.k, op.n];
    case 'relu_backward': return [OP.relu_backward, ptr(op.dy), ptr(op.y), ptr(op.dx), op.features];
    case 'adam': return [OP.adam, ptr(op.param), ptr(op.grad), ptr(op.m), ptr(op.v), op.size];
  }
}

/** The training step (forward, backward, Adam, transposed-copy refresh) as records. */
export function encodeTrainPlan(graph: Graph, L: PlanLayout, custom: CustomOps = new Set()): Int32Array {
  const sparse = sparseInputs(graph);
  const records = [...graph.forward, ...graph.backward, ...graph.update].map((op) => withCustom(op, encodeOp(op, L, sparse), custom));
  for (const [w, { k, n }] of transposedKernels(graph)) records.push([OP.transpose, L.ptr(w), L.transposed(w), k, n]);
  return pack(records);
}

/** Evaluation/prediction: gather, forward without dropout, softmax_xent (no dLogits). */
export function encodeInferencePlan(graph: Graph, L: PlanLayout, custom: CustomOps = new Set()): Int32Array {
  const sparse = sparseInputs(graph);
  return pack(graph.inference.map((op) => withCustom(op, encodeOp(op, L, sparse), custom)));
}

function pack(records: number[][]): Int32Array {
  const out = new Int32Array(records.length * OP_WORDS);
  records.forEach((r, i) => {
    if (r.length > OP_WORDS) throw new Error('plan record too long');
    out.set(r.map((x) => x | 0), i * OP_WORDS);
  });
  return out;
}
