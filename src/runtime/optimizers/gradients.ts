// The gradient ops that run before the optimizer's updates, in Keras's
// order: a kernel_regularizer's gradient joins the loss's, then gradients
// are clipped (at most one of clipvalue, clipnorm, global_clipnorm; the
// config check refuses more), then the optimizer updates.
//   regularizer and/or clipvalue   one grad_prep per such parameter (one pass)
//   clipnorm                       per parameter: grad_norm into its own sum, then grad_clip
//   global_clipnorm                every grad_norm adding into one sum, then a grad_clip each
// Ops of one kind stay consecutive, so the WebGPU backend fuses the global
// norm and its clip into one dispatch each over the grads arena.

import type { OptimizerSpec } from '../../config/types.js';
import type { Regularizer } from '../../layers/types.js';
import type { GradClipOp } from '../../ops/grad_clip.js';
import type { GradNormOp } from '../../ops/grad_norm.js';
import type { GradPrepOp } from '../../ops/grad_prep.js';
import type { RegPenaltyOp } from '../../ops/reg_penalty.js';
import type { OpRecordBase } from '../../ops/types.js';

export interface GradientParam { name: string; grad: string; size: number; regularizer: Regularizer | null }

/** The buffer that holds the global sum of squares under global_clipnorm. */
export const GLOBAL_NORM_BUFFER = 'optimizer:global_norm';

/** The ops, and `norm(name)` adds a one-float sum-of-squares buffer (kind 'grad_norm'). */
export function gradientOps(spec: OptimizerSpec, params: readonly GradientParam[], norm: (name: string) => string): OpRecordBase[] {
  const ops: OpRecordBase[] = [];
  const clipvalue = spec.clipvalue ?? 0;
  for (const p of params) {
    if (!p.regularizer && clipvalue <= 0) continue;
    const op: GradPrepOp = { kind: 'grad_prep', layer: p.name, param: p.name, grad: p.grad, size: p.size, l1: p.regularizer?.l1 ?? 0, l2: p.regularizer?.l2 ?? 0, clipvalue };
    ops.push(op);
  }
  const perParam = spec.clipnorm !== undefined;
  const clip = spec.clipnorm ?? spec.global_clipnorm;
  if (clip === undefined || !params.length) return ops;
  const sums = params.map((p) => norm(perParam ? `${p.name}:grad_norm` : GLOBAL_NORM_BUFFER));
  params.forEach((p, i) => {
    const op: GradNormOp = { kind: 'grad_norm', layer: p.name, grad: p.grad, out: sums[i]!, size: p.size, accumulate: !perParam && i > 0 };
    ops.push(op);
  });
  params.forEach((p, i) => {
    const op: GradClipOp = { kind: 'grad_clip', layer: p.name, grad: p.grad, norm: sums[i]!, size: p.size, clipnorm: clip };
    ops.push(op);
  });
  return ops;
}

/** One reg_penalty per regularized parameter: its penalty added to the loss the forward pass reports (Keras adds the layers' losses). */
export function penaltyOps(params: readonly GradientParam[]): OpRecordBase[] {
  return params.filter((p) => p.regularizer).map((p): RegPenaltyOp => ({ kind: 'reg_penalty', layer: p.name, param: p.name, size: p.size, l1: p.regularizer!.l1, l2: p.regularizer!.l2 }));
}
