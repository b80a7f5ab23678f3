// What a loss's lowering declares (one file per loss in this folder): the
// targets it reads, its fused op in training and in evaluation, the metrics
// that op counts itself, and how predict turns outputs into predictions.
// The shape rules that tie it to the last layer are config checks
// (src/config/loss-checks.ts). Browser-safe.

import type { LossSpec } from '../../config/types.js';
import type { OpRecordBase } from '../../ops/types.js';

/** What predict returns per row: softmax probabilities, sigmoid probabilities, or the outputs as they are. */
export type PredictionKind = 'softmax' | 'sigmoid' | 'identity';

export interface LossLowering<S extends LossSpec = LossSpec> {
  /** Float targets per example it reads (gather_targets into `targets`), for a last layer of `units`; 0: it reads class ids. */
  targetWidth(spec: S, units: number): number;
  /** Its fused op: dlogits given in training (writes dLoss/dOutputs), null in evaluation (only accumulates). */
  op(spec: S, outputs: string, dOutputs: string | null, units: number): OpRecordBase;
  /** Metrics whose count its op accumulates itself (its correct count), by name. */
  fused(spec: S, units: number): readonly string[];
  prediction(spec: S): PredictionKind;
  /** The op scoring every position of a [T, units] output against the float targets (class ids) of width T, where the loss has one. */
  sequenceOp?(outputs: string, dOutputs: string | null, positions: number, units: number): OpRecordBase;
}
