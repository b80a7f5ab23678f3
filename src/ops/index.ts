// The op registry: every op Tessera's graphs are made of, one file each.
// Everything that handles ops (the graph's liveness analysis, the js, wasm
// and webgpu backends, the generated AssemblyScript step loop, `tessera
// bench`, custom kernels, docs/kernels.md, the schema's `kernels:` names and
// the conformance tests) loops over this list instead of naming ops.
//
// Adding an op: write src/ops/<op>.ts (see docs/architecture.md), add it
// here, and give it a WGSL kernel in kernels/wgsl and an AssemblyScript
// function in kernels/as.

import { adamOp } from './adam.js';
import { adamwOp } from './adamw.js';
import { rmspropOp } from './rmsprop.js';
import { sgdOp } from './sgd.js';
import { gradClipOp } from './grad_clip.js';
import { gradNormOp } from './grad_norm.js';
import { gradPrepOp } from './grad_prep.js';
import { regPenaltyOp } from './reg_penalty.js';
import { denseBackwardInputOp } from './dense_backward_input.js';
import { denseBackwardWeightsOp } from './dense_backward_weights.js';
import { denseForwardOp } from './dense_forward.js';
import { conv2dBackwardInputOp } from './conv2d_backward_input.js';
import { conv2dBackwardWeightsOp } from './conv2d_backward_weights.js';
import { conv2dForwardOp } from './conv2d_forward.js';
import { dropoutBackwardOp, dropoutOp } from './dropout.js';
import { gatherOp } from './gather.js';
import { gatherTargetsOp } from './gather_targets.js';
import { gatherF32Op } from './gather_f32.js';
import { reluBackwardOp } from './relu_backward.js';
import { softmaxXentOp } from './softmax_xent.js';
import { REGRESSION_OPS } from './regression_loss.js';
import { categoricalCrossentropyOp } from './categorical_crossentropy.js';
import { binaryCrossentropyOp } from './binary_crossentropy.js';
import { topKAccuracyOp } from './top_k_accuracy.js';
import { ACTIVATION_OPS } from './activations.js';
import { POOL2D_OPS } from './pool2d.js';
import { GLOBAL_POOL2D_OPS } from './global_pool2d.js';
import { addOp } from './add.js';
import { subtractOp } from './subtract.js';
import { multiplyOp } from './multiply.js';
import { scaleOp } from './scale.js';
import { concatOp } from './concat.js';
import { splitOp } from './split.js';
import { batchNormInferenceOp, batchNormTrainOp } from './batch_norm.js';
import { batchNormBackwardOp } from './batch_norm_backward.js';
import { embeddingBackwardOp, embeddingOp } from './embedding.js';
import { positionEmbeddingBackwardOp, positionEmbeddingOp } from './position_embedding.js';
import { attentionScoresOp } from './attention_scores.js';
import { attentionScoresBackwardOp } from './attention_scores_backward.js';
import { attentionValuesOp } from './attention_values.js';
import { attentionValuesBackwardOp } from './attention_values_backward.js';
import { layerNormBackwardOp, layerNormOp } from './layer_norm.js';
import { sequenceXentOp } from './sequence_xent.js';
import type { OpDef, OpRecordBase } from './types.js';

/** Every registered op, in the order docs and benches list them. */
export const OPS = [
  gatherOp,
  gatherF32Op,
  denseForwardOp,
  denseBackwardWeightsOp,
  denseBackwardInputOp,
  conv2dForwardOp,
  conv2dBackwardWeightsOp,
  conv2dBackwardInputOp,
  reluBackwardOp,
  dropoutOp,
  dropoutBackwardOp,
  softmaxXentOp,
  ...REGRESSION_OPS,
  categoricalCrossentropyOp,
  binaryCrossentropyOp,
  topKAccuracyOp,
  gatherTargetsOp,
  adamOp,
  sgdOp,
  adamwOp,
  rmspropOp,
  gradPrepOp,
  gradNormOp,
  gradClipOp,
  regPenaltyOp,
  ...ACTIVATION_OPS,
  ...POOL2D_OPS,
  ...GLOBAL_POOL2D_OPS,
  addOp,
  subtractOp,
  multiplyOp,
  scaleOp,
  concatOp,
  splitOp,
  attentionScoresOp,
  attentionScoresBackwardOp,
  attentionValuesOp,
  attentionValuesBackwardOp,
  sequenceXentOp,
  batchNormTrainOp,
  batchNormInferenceOp,
  batchNormBackwardOp,
  embeddingOp,
  embeddingBackwardOp,
  positionEmbeddingOp,
  positionEmbeddingBackwardOp,
  layerNormOp,
  layerNormBackwardOp,
] as const;

type RecordOf<D> = D extends OpDef<infer T> ? T : never;

/** An op record of any registered kind. */
export type Op = RecordOf<(typeof OPS)[number]>;
export type OpKind = Op['kind'];

const BY_KIND = new Map<string, OpDef>(OPS.map((d) => [d.kind, d as unknown as OpDef]));

export function isOpKind(kind: string): kind is OpKind {
  return BY_KIND.has(kind);
}

/** The definition of an op kind; throws for one that is not registered. */
export function opDef(kind: string): OpDef {
  const d = BY_KIND.get(kind);
  if (!d) throw new Error(`unknown op '${kind}'; registered ops: ${[...BY_KIND.keys()].join(', ')}`);
  return d;
}

/** The definition of an op record's kind. */
export function defOf(op: OpRecordBase): OpDef {
  return opDef(op.kind);
}

/** Buffer names an op record reads and writes. */
export function opBuffers(op: OpRecordBase): { reads: string[]; writes: string[] } {
  return defOf(op).buffers(op);
}

/** Kinds a user's kernel may replace (those with a contract). */
export function replaceableOps(): OpDef[] {
  return [...BY_KIND.values()].filter((d) => d.custom !== null);
}

/** Kinds `tessera bench` can check and time. */
export function benchableOps(): OpDef[] {
  return [...BY_KIND.values()].filter((d) => d.bench !== null);
}

/** Every op kind, in registry order. */
export const OP_KINDS: readonly string[] = OPS.map((d) => d.kind);

// Op codes must be unique: the wasm plan's records start with them.
{
  const seen = new Map<number, string>();
  for (const d of OPS) {
    const other = seen.get(d.wasm.code);
    if (other) throw new Error(`ops ${other} and ${d.kind} share wasm op code ${d.wasm.code}`);
    seen.set(d.wasm.code, d.kind);
  }
}
