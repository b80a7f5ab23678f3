// Batch normalization's op records and reference implementations (Keras 3,
// channels_last): x is [rows × P × C] with P = features / C positions per
// row (H·W after a conv, 1 after a dense layer); each channel c is
// normalised over its n = rows·P values.
//
//   training   mean = Σx/n, var = Σ(x − mean)²/n (biased, two passes)
//              invstd = 1/√(var + ε)
//              moving_mean     = moving_mean·momentum + mean·(1 − momentum)
//              moving_variance = moving_variance·momentum + var·(1 − momentum)
//   inference  mean = moving_mean, invstd = 1/√(moving_variance + ε)
//   both       a = γ·invstd, b = β − mean·a, y = x·a + b
//              (tf.nn.batch_normalization's form; γ = 1 without `scale`,
//              β = 0 without `center`)
//   backward   x̂ = (x − mean)·invstd, Σdy and Σdy·x̂ per channel
//              dβ = Σdy, dγ = Σdy·x̂
//              dx = a·(dy − Σdy/n − x̂·Σdy·x̂/n)
//
// The `stats` buffer holds six per-channel rows, kept from the forward op
// to the backward op (and rewritten by inference):
//   [mean | invstd | a | b | Σdy | Σdy·x̂], each C floats.
//
// Plain loops with float64 arithmetic: on Float64Arrays they are the
// float64 model the gradient tests differentiate (test/batchnorm.test.ts).

import type { OpRecordBase } from './types.js';

export const BATCH_STATS_PER_CHANNEL = 6;
/** Row of each per-channel statistic in the stats buffer (times C floats). */
export const STAT = { mean: 0, invstd: 1, scale: 2, shift: 3, sumDy: 4, sumDyXhat: 5 } as const;

interface BatchNormFields extends OpRecordBase {
  x: string;
  /** null without `scale` (γ = 1) and without `center` (β = 0). */
  gamma: string | null;
  beta: string | null;
  movingMean: string;
  movingVariance: string;
  stats: string;
  y: string;
  /** Values per row (P·C) and channels C. */
  features: number;
  channels: number;
  epsilon: number;
}

export interface BatchNormTrainOp extends BatchNormFields { kind: 'batch_norm_train'; momentum: number }
export interface BatchNormInferenceOp extends BatchNormFields { kind: 'batch_norm_inference' }

export interface BatchNormBackwardOp extends OpRecordBase {
  kind: 'batch_norm_backward';
  dy: string;
  x: string;
  stats: string;
  /** null where nothing below needs a gradient; dgamma/dbeta null without scale/center. */
  dx: string | null;
  dgamma: string | null;
  dbeta: string | null;
  features: number;
  channels: number;
}

/** a = γ·invstd and b = β − mean·a from the mean and invstd rows. */
function affine(S: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, C: number): void {
  for (let c = 0; c < C; c++) {
    const a = (gamma ? gamma[c]! : 1) * S[STAT.invstd * C + c]!;
    S[STAT.scale * C + c] = a;
    S[STAT.shift * C + c] = (beta ? beta[c]! : 0) - S[STAT.mean * C + c]! * a;
  }
}

function apply(X: Float32Array, Y: Float32Array, S: Float32Array, rows: number, F: number, C: number): void {
  const n = rows * F;
  for (let i = 0; i < n; i++) {
    const c = i % C;
    Y[i] = X[i]! * S[STAT.scale * C + c]! + S[STAT.shift * C + c]!;
  }
}

export function batchNormTrain(
  X: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, MM: Float32Array, MV: Float32Array,
  S: Float32Array, Y: Float32Array, rows: number, F: number, C: number, epsilon: number, momentum: number,
): void {
  const n = rows * (F / C);
  const m = momentum, m1 = 1 - momentum;
  for (let c = 0; c < C; c++) {
    let sum = 0;
    for (let j = c; j < rows * F; j += C) sum += X[j]!;
    const mean = sum / n;
    let sq = 0;
    for (let j = c; j < rows * F; j += C) { const d = X[j]! - mean; sq += d * d; }
    const variance = sq / n;
    S[STAT.mean * C + c] = mean;
    S[STAT.invstd * C + c] = 1 / Math.sqrt(variance + epsilon);
    MM[c] = MM[c]! * m + mean * m1;
    MV[c] = MV[c]! * m + variance * m1;
  }
  affine(S, gamma, beta, C);
  apply(X, Y, S, rows, F, C);
}

export function batchNormInference(
  X: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, MM: Float32Array, MV: Float32Array,
  S: Float32Array, Y: Float32Array, rows: number, F: number, C: number, epsilon: number,
): void {
  for (let c = 0; c < C; c++) {
    S[STAT.mean * C + c] = MM[c]!;
    S[STAT.invstd * C + c] = 1 / Math.sqrt(MV[c]! + epsilon);
  }
  affine(S, gamma, beta, C);
  apply(X, Y, S, rows, F, C);
}

export function batchNormBackward(
  DY: Float32Array, X: Float32Array, S: Float32Array, DX: Float32Array | null, DG: Float32Array | null, DB: Float32Array | null,
  rows: number, F: number, C: number,
): void {
  const n = rows * (F / C);
  for (let c = 0; c < C; c++) {
    const mean = S[STAT.mean * C + c]!, invstd = S[STAT.invstd * C + c]!;
    let sumDy = 0, sumDyXhat = 0;
    for (let j = c; j < rows * F; j += C) {
      sumDy += DY[j]!;
      sumDyXhat += DY[j]! * (X[j]! - mean) * invstd;
    }
    S[STAT.sumDy * C + c] = sumDy;
    S[STAT.sumDyXhat * C + c] = sumDyXhat;
    if (DG) DG[c] = sumDyXhat;
    if (DB) DB[c] = sumDy;
  }
  if (!DX) return;
  for (let i = 0; i < rows * F; i++) {
    const c = i % C;
    const xhat = (X[i]! - S[STAT.mean * C + c]!) * S[STAT.invstd * C + c]!;
    const k1 = S[STAT.sumDy * C + c]! / n, k2 = S[STAT.sumDyXhat * C + c]! / n;
    DX[i] = S[STAT.scale * C + c]! * (DY[i]! - k1 - xhat * k2);
  }
}
