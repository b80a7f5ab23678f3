// The losses: lowering of the spec's `loss:` into its fused op (one file per
// loss), and of `metrics:` into the accumulators the backends keep on the
// device next to the loss sum. Browser-safe.
//
// Accumulators: every backend sums, per batch, the loss (accumulator
// 'loss'), the loss op's correct count ('correct': the metrics its op fuses,
// such as accuracy with a softmax cross-entropy), and one sum per metric op
// (numbered 0…, in the order of the spec's metrics). A metric's value is its
// sum over the examples seen divided by their count.

import type { LossSpec, ModelSpec } from '../../config/types.js';
import type { OpRecordBase } from '../../ops/types.js';
import type { TopKAccuracyOp } from '../../ops/top_k_accuracy.js';
import { binaryCrossentropy } from './binary-crossentropy.js';
import { categoricalCrossentropy } from './categorical-crossentropy.js';
import { regressionLoss, regressionRecord } from './regression.js';
import { sparseCategoricalCrossentropy } from './sparse-categorical-crossentropy.js';
import type { LossLowering, PredictionKind } from './types.js';

export type { LossLowering, PredictionKind } from './types.js';

const LOWERINGS: Record<LossSpec['type'], LossLowering> = {
  sparse_categorical_crossentropy: sparseCategoricalCrossentropy as LossLowering,
  categorical_crossentropy: categoricalCrossentropy as LossLowering,
  binary_crossentropy: binaryCrossentropy as LossLowering,
  mean_squared_error: regressionLoss as LossLowering,
  mean_absolute_error: regressionLoss as LossLowering,
  huber: regressionLoss as LossLowering,
};

/** Keras's default k of top_k_categorical_accuracy. */
export const TOP_K_DEFAULT = 5;

/** Metrics computed by a regression op of their own in metric mode (outputs against the float targets). */
const ERROR_METRICS: Record<string, 'mean_squared_error' | 'mean_absolute_error'> = { mse: 'mean_squared_error', mae: 'mean_absolute_error' };

export function lossLowering(spec: LossSpec): LossLowering {
  const l = LOWERINGS[spec.type];
  if (!l) throw new Error(`unknown loss '${spec.type}'; known: ${Object.keys(LOWERINGS).join(', ')}`);
  return l;
}

/** A metric of the graph and where its sum accumulates: the loss op's correct count, or its own accumulator. */
export interface GraphMetric { name: string; accumulator: 'correct' | number }

/** The log name of a metric entry of the spec. */
export function metricName(m: ModelSpec['metrics'][number]): string {
  return typeof m === 'string' ? m : m.type;
}

export interface LoweredLoss {
  targetWidth: number;
  /** The loss op (training: with dOutputs) and the metric ops after it (the same in training and evaluation). */
  train: OpRecordBase[];
  eval: OpRecordBase[];
  metrics: GraphMetric[];
  /** How many accumulators the metric ops use (numbered from 0). */
  metricAccumulators: number;
  prediction: PredictionKind;
}

/**
 * The loss and metric ops over the last layer's `outputs`: `units` per
 * position, `positions` positions per row (1, or T for a sequence model
 * scored at every position).
 */
export function lowerLoss(spec: Pick<ModelSpec, 'loss' | 'metrics'>, outputs: { train: string; eval: string }, dOutputs: string, units: number, positions = 1): LoweredLoss {
  const l = lossLowering(spec.loss);
  if (positions > 1 && !l.sequenceOp) throw new Error(`the loss ${spec.loss.type} is not computed at every position of a sequence`);
  const fused = l.fused(spec.loss, units);
  const targetWidth = positions > 1 ? positions : l.targetWidth(spec.loss, units);
  const op = (from: string, d: string | null) => (positions > 1 ? l.sequenceOp!(from, d, positions, units) : l.op(spec.loss, from, d, units));
  const metrics: GraphMetric[] = [];
  // Metric ops: one record each, the same in training and evaluation but for the outputs they read.
  const metricOps: ((from: string) => OpRecordBase)[] = [];
  for (const m of spec.metrics) {
    const name = metricName(m);
    const error = ERROR_METRICS[name];
    if (fused.includes(name)) {
      metrics.push({ name, accumulator: 'correct' });
    } else if (error && targetWidth === units) {
      const k = metricOps.length;
      metrics.push({ name, accumulator: k });
      metricOps.push((from) => regressionRecord(error, from, null, units, 1, k));
    } else if (name === 'top_k_categorical_accuracy' && targetWidth === 0 && l.prediction(spec.loss) === 'softmax') {
      const k = metricOps.length, topK = typeof m === 'string' ? TOP_K_DEFAULT : m.k ?? TOP_K_DEFAULT;
      metrics.push({ name, accumulator: k });
      metricOps.push((from): TopKAccuracyOp => ({ kind: 'top_k_categorical_accuracy', layer: 'metrics', logits: from, classes: units, k: topK, accumulator: k }));
    } else {
      // Config checks (src/config/loss-checks.ts) report this at the metric's line first.
      throw new Error(`metric '${name}' cannot be computed with the loss ${spec.loss.type}`);
    }
  }
  return {
    targetWidth,
    train: [op(outputs.train, dOutputs), ...metricOps.map((m) => m(outputs.train))],
    eval: [op(outputs.eval, null), ...metricOps.map((m) => m(outputs.eval))],
    metrics,
    metricAccumulators: metricOps.length,
    prediction: l.prediction(spec.loss),
  };
}

/** Sums since the last read, as backends return them (TrainMetrics). */
export interface MetricSums { lossSum: number; correct: number; samples: number; sums: readonly number[] }

/**
 * Each metric's mean over the examples summed, by name (Keras's log names).
 * The correct count covers every scored position (graph.scoredPositions: T
 * for a sequence output), so accuracy divides by samples × positions.
 */
export function metricValues(metrics: readonly GraphMetric[], m: MetricSums, positions = 1): Record<string, number> {
  const out: Record<string, number> = {};
  for (const g of metrics) out[g.name] = g.accumulator === 'correct' ? m.correct / (m.samples * positions) : (m.sums[g.accumulator] ?? NaN) / m.samples;
  return out;
}
