// Batch normalization kernels, channels_last. Contract (src/ops/batch_norm.ts,
// src/ops/batch_norm_backward.ts; formulas in src/ops/batch-norm-reference.ts):
//   x, y, dy, dx  [B × F] f32, F = P·C (P positions of C channels per row)
//   gamma, beta   [C] or 0 (no scale: γ = 1; no center: β = 0)
//   movingMean, movingVariance  [C], updated in place by batchNormTrain
//   stats         [6 × C]: mean | invstd | a = γ·invstd | b = β − mean·a |
//                 Σdy | Σdy·x̂ (rows 0–3 written by the forward ops, 4–5 by
//                 the backward op)
//   dgamma, dbeta [C] or 0 (not computed); dx 0: not computed
// Each channel is normalised over its n = B·P values. Pointers are byte
// offsets. Every loop runs over the channels of one position innermost,
// four at a time (f32x4: they are contiguous), with a scalar tail for C % 4;
// the per-channel rows of stats stay in cache across positions.

// @ts-ignore: decorator
@inline function off(i: i32): usize {
  return <usize>i << 2;
}

// The threads build splits each kernel by channels [c0, c1) (c0 a multiple of
// 4): every channel's sums run over the positions in the same order, so a
// share computes the values of its channels exactly as the whole kernel.

/** row[c] = 0 for c0 ≤ c < c1. */
function zeroRow(row: usize, c0: i32, c1: i32): void {
  memory.fill(row + off(c0), 0, off(c1 - c0));
}

/** stats rows 2–3 from rows 0–1: a = γ·invstd, b = β − mean·a. */
function affine(stats: usize, gamma: usize, beta: usize, C: i32, c0: i32, c1: i32): void {
  const mean = stats, invstd = stats + off(C), a = stats + off(2 * C), b = stats + off(3 * C);
  for (let c = c0; c < c1; c++) {
    const s = (gamma != 0 ? load<f32>(gamma + off(c)) : <f32>1) * load<f32>(invstd + off(c));
    store<f32>(a + off(c), s);
    store<f32>(b + off(c), (beta != 0 ? load<f32>(beta + off(c)) : <f32>0) - load<f32>(mean + off(c)) * s);
  }
}

/** y = x·a + b over the n positions. */
function apply(x: usize, y: usize, stats: usize, positions: i32, C: i32, c0: i32, c1: i32): void {
  const a = stats + off(2 * C), b = stats + off(3 * C);
  for (let p = 0; p < positions; p++) {
    const xo = x + off(p * C), yo = y + off(p * C);
    let c = c0;
    for (; c + 4 <= c1; c += 4) {
      v128.store(yo + off(c), f32x4.add(f32x4.mul(v128.load(xo + off(c)), v128.load(a + off(c))), v128.load(b + off(c))));
    }
    for (; c < c1; c++) store<f32>(yo + off(c), load<f32>(xo + off(c)) * load<f32>(a + off(c)) + load<f32>(b + off(c)));
  }
}

export function batchNormTrain(x: usize, gamma: usize, beta: usize, movingMean: usize, movingVariance: usize, stats: usize, y: usize,
  B: i32, F: i32, C: i32, epsilon: f32, momentum: f32): void {
  batchNormTrainChannels(x, gamma, beta, movingMean, movingVariance, stats, y, B, F, C, epsilon, momentum, 0, C);
}

export function batchNormTrainChannels(x: usize, gamma: usize, beta: usize, movingMean: usize, movingVariance: usize, stats: usize, y: usize,
  B: i32, F: i32, C: i32, epsilon: f32, momentum: f32, c0: i32, c1: i32): void {
  const positions = B * (F / C);
  const n = <f32>positions;
  const mean = stats, variance = stats + off(C); // row 1 holds the variance until it becomes invstd
  zeroRow(mean, c0, c1);
  for (let p = 0; p < positions; p++) {
    const xo = x + off(p * C);
    let c = c0;
    for (; c + 4 <= c1; c += 4) v128.store(mean + off(c), f32x4.add(v128.load(mean + off(c)), v128.load(xo + off(c))));
    for (; c < c1; c++) store<f32>(mean + off(c), load<f32>(mean + off(c)) + load<f32>(xo + off(c)));
  }
  for (let c = c0; c < c1; c++) store<f32>(mean + off(c), load<f32>(mean + off(c)) / n);
  zeroRow(variance, c0, c1);
  for (let p = 0; p < positions; p++) {
    const xo = x + off(p * C);
    let c = c0;
    for (; c + 4 <= c1; c += 4) {
      const d = f32x4.sub(v128.load(xo + off(c)), v128.load(mean + off(c)));
      v128.store(variance + off(c), f32x4.add(v128.load(variance + off(c)), f32x4.mul(d, d)));
    }
    for (; c < c1; c++) {
      const d = load<f32>(xo + off(c)) - load<f32>(mean + off(c));
      store<f32>(variance + off(c), load<f32>(variance + off(c)) + d * d);
    }
  }
  const m1 = <f32>1 - momentum;
  for (let c = c0; c < c1; c++) {
    const v = load<f32>(variance + off(c)) / n;
    const mu = load<f32>(mean + off(c));
    store<f32>(variance + off(c), <f32>1 / Mathf.sqrt(v + epsilon));
    store<f32>(movingMean + off(c), load<f32>(movingMean + off(c)) * momentum + mu * m1);
    store<f32>(movingVariance + off(c), load<f32>(movingVariance + off(c)) * momentum + v * m1);
  }
  affine(stats, gamma, beta, C, c0, c1);
  apply(x, y, stats, positions, C, c0, c1);
}

export function batchNormInference(x: usize, gamma: usize, beta: usize, movingMean: usize, movingVariance: usize, stats: usize, y: usize,
  B: i32, F: i32, C: i32, epsilon: f32): void {
  batchNormInferenceChannels(x, gamma, beta, movingMean, movingVariance, stats, y, B, F, C, epsilon, 0, C);
}

export function batchNormInferenceChannels(x: usize, gamma: usize, beta: usize, movingMean: usize, movingVariance: usize, stats: usize, y: usize,
  B: i32, F: i32, C: i32, epsilon: f32, c0: i32, c1: i32): void {
  for (let c = c0; c < c1; c++) {
    store<f32>(stats + off(c), load<f32>(movingMean + off(c)));
    store<f32>(stats + off(C + c), <f32>1 / Mathf.sqrt(load<f32>(movingVariance + off(c)) + epsilon));
  }
  affine(stats, gamma, beta, C, c0, c1);
  apply(x, y, stats, B * (F / C), C, c0, c1);
}

export function batchNormBackward(dy: usize, x: usize, stats: usize, dx: usize, dgamma: usize, dbeta: usize, B: i32, F: i32, C: i32): void {
  batchNormBackwardChannels(dy, x, stats, dx, dgamma, dbeta, B, F, C, 0, C);
}

export function batchNormBackwardChannels(dy: usize, x: usize, stats: usize, dx: usize, dgamma: usize, dbeta: usize, B: i32, F: i32, C: i32, c0: i32, c1: i32): void {
  const positions = B * (F / C);
  const mean = stats, invstd = stats + off(C), a = stats + off(2 * C), sumDy = stats + off(4 * C), sumDyXhat = stats + off(5 * C);
  zeroRow(sumDy, c0, c1);
  zeroRow(sumDyXhat, c0, c1);
  for (let p = 0; p < positions; p++) {
    const xo = x + off(p * C), go = dy + off(p * C);
    let c = c0;
    for (; c + 4 <= c1; c += 4) {
      const g = v128.load(go + off(c));
      const xhat = f32x4.mul(f32x4.sub(v128.load(xo + off(c)), v128.load(mean + off(c))), v128.load(invstd + off(c)));
      v128.store(sumDy + off(c), f32x4.add(v128.load(sumDy + off(c)), g));
      v128.store(sumDyXhat + off(c), f32x4.add(v128.load(sumDyXhat + off(c)), f32x4.mul(g, xhat)));
    }
    for (; c < c1; c++) {
      const g = load<f32>(go + off(c));
      const xhat = (load<f32>(xo + off(c)) - load<f32>(mean + off(c))) * load<f32>(invstd + off(c));
      store<f32>(sumDy + off(c), load<f32>(sumDy + off(c)) + g);
      store<f32>(sumDyXhat + off(c), load<f32>(sumDyXhat + off(c)) + g * xhat);
    }
  }
  if (dgamma != 0) memory.copy(dgamma + off(c0), sumDyXhat + off(c0), off(c1 - c0));
  if (dbeta != 0) memory.copy(dbeta + off(c0), sumDy + off(c0), off(c1 - c0));
  if (dx == 0) return;
  const invN = f32x4.splat(<f32>1 / <f32>positions), sInvN = <f32>1 / <f32>positions;
  for (let p = 0; p < positions; p++) {
    const xo = x + off(p * C), go = dy + off(p * C), dxo = dx + off(p * C);
    let c = c0;
    for (; c + 4 <= c1; c += 4) {
      const xhat = f32x4.mul(f32x4.sub(v128.load(xo + off(c)), v128.load(mean + off(c))), v128.load(invstd + off(c)));
      const k1 = f32x4.mul(v128.load(sumDy + off(c)), invN), k2 = f32x4.mul(v128.load(sumDyXhat + off(c)), invN);
      const inner = f32x4.sub(f32x4.sub(v128.load(go + off(c)), k1), f32x4.mul(xhat, k2));
      v128.store(dxo + off(c), f32x4.mul(v128.load(a + off(c)), inner));
    }
    for (; c < c1; c++) {
      const xhat = (load<f32>(xo + off(c)) - load<f32>(mean + off(c))) * load<f32>(invstd + off(c));
      const inner = load<f32>(go + off(c)) - load<f32>(sumDy + off(c)) * sInvN - xhat * load<f32>(sumDyXhat + off(c)) * sInvN;
      store<f32>(dxo + off(c), load<f32>(a + off(c)) * inner);
    }
  }
}
