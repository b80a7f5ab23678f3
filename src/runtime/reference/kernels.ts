// The TypeScript reference implementation of every op in DESIGN.md's kernel
// table. It is the oracle that the WGSL and AssemblyScript kernels are tested
// against, and the compute of the `js` backend.
//
// Conventions shared by all three implementations (the kernel contract):
// - Matrices are dense row-major f32. X is [M×K] (M = rows in the batch),
//   W is [K×N] (Keras kernel layout: inputs × units), Y is [M×N].
// - Kernels overwrite their outputs; nothing accumulates across calls except
//   the loss/correct accumulators of softmaxXent, which the caller resets.
// - Loops are ordered for contiguous inner access (i-k-j), which makes the
//   plain-JS matmul a few times faster than the textbook i-j-k order.

import { dropoutScale, dropoutThreshold, hashAt } from '../rng.js';

/** Y = X·W + b, then ReLU when `relu`. b may be null (use_bias: false). */
export function denseForward(
  X: Float32Array, W: Float32Array, b: Float32Array | null, Y: Float32Array,
  M: number, K: number, N: number, relu: boolean,
): void {
  for (let i = 0; i < M; i++) {
    const yo = i * N;
    if (b) for (let j = 0; j < N; j++) Y[yo + j] = b[j];
    else Y.fill(0, yo, yo + N);
    const xo = i * K;
    for (let k = 0; k < K; k++) {
      const x = X[xo + k];
      if (x === 0) continue; // MNIST inputs are mostly zeros: skipping is exact
      const wo = k * N;
      for (let j = 0; j < N; j++) Y[yo + j] += x * W[wo + j];
    }
    if (relu) for (let j = 0; j < N; j++) if (!(Y[yo + j] > 0)) Y[yo + j] = 0;
  }
}

/** dW = Xᵀ·dY [K×N]; db = column sums of dY [N] (db may be null). */
export function denseBackwardWeights(
  X: Float32Array, dY: Float32Array, dW: Float32Array, db: Float32Array | null,
  M: number, K: number, N: number,
): void {
  dW.fill(0, 0, K * N);
  for (let i = 0; i < M; i++) {
    const xo = i * K, yo = i * N;
    for (let k = 0; k < K; k++) {
      const x = X[xo + k];
      if (x === 0) continue;
      const wo = k * N;
      for (let j = 0; j < N; j++) dW[wo + j] += x * dY[yo + j];
    }
  }
  if (db) {
    db.fill(0, 0, N);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) db[j] += dY[i * N + j];
  }
}

/**
 * dX = dY·Wᵀ [M×K]. When `reluOut` is given (the ReLU output that was this
 * layer's input), the ReLU backward is fused: dX is zero where reluOut <= 0.
 */
export function denseBackwardInput(
  dY: Float32Array, W: Float32Array, dX: Float32Array, reluOut: Float32Array | null,
  M: number, K: number, N: number,
): void {
  for (let i = 0; i < M; i++) {
    const yo = i * N, xo = i * K;
    for (let k = 0; k < K; k++) {
      if (reluOut && !(reluOut[xo + k] > 0)) { dX[xo + k] = 0; continue; }
      const wo = k * N;
      let s = 0;
      for (let j = 0; j < N; j++) s += dY[yo + j] * W[wo + j];
      dX[xo + k] = s;
    }
  }
}

/** Y = max(X, 0) elementwise over n values. */
export function relu(X: Float32Array, Y: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) Y[i] = X[i] > 0 ? X[i] : 0;
}

/** dX = dY where the ReLU output Y > 0, else 0. */
export function reluBackward(dY: Float32Array, Y: Float32Array, dX: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) dX[i] = Y[i] > 0 ? dY[i] : 0;
}

/**
 * Inverted dropout over n values with the counter RNG: element i is kept iff
 * (hashAt(key, i) >>> 8) >= dropoutThreshold(rate), where
 * key = rngKey(seed, STREAM_DROPOUT_BASE + layer, step); kept values are
 * scaled by 1/(1 - rate). The backward pass calls this same function on dY:
 * the mask is recomputed from the counter, never stored.
 */
export function dropout(X: Float32Array, Y: Float32Array, n: number, key: number, rate: number): void {
  const threshold = dropoutThreshold(rate);
  const scale = dropoutScale(rate);
  for (let i = 0; i < n; i++) Y[i] = hashAt(key, i) >>> 8 >= threshold ? X[i] * scale : 0;
}

/** The dropout keep-mask (1 kept, 0 dropped) for tests and debugging. */
export function dropoutMask(n: number, key: number, rate: number): Uint8Array {
  const threshold = dropoutThreshold(rate);
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = hashAt(key, i) >>> 8 >= threshold ? 1 : 0;
  return mask;
}

/**
 * Fused softmax cross-entropy over M rows of C logits with integer labels,
 * numerically stable (max-subtracted):
 *   loss_i = logsumexp(z_i) - z_i[label_i]
 *   dLogits = (softmax(z) - onehot(label)) / gradScale   (gradScale = rows in the batch)
 * dLogits may be null (evaluation). Returns the loss summed over rows and
 * the number of rows whose argmax (first maximum) equals the label.
 */
export function softmaxXent(
  logits: Float32Array, labels: ArrayLike<number>, dLogits: Float32Array | null,
  M: number, C: number, gradScale: number,
): { lossSum: number; correct: number } {
  let lossSum = 0, correct = 0;
  const inv = 1 / gradScale;
  for (let i = 0; i < M; i++) {
    const o = i * C;
    let max = logits[o], arg = 0;
    for (let c = 1; c < C; c++) if (logits[o + c] > max) { max = logits[o + c]; arg = c; }
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(logits[o + c] - max);
    const label = labels[i];
    lossSum += Math.log(sum) + max - logits[o + label];
    if (arg === label) correct++;
    if (dLogits) for (let c = 0; c < C; c++) dLogits[o + c] = (Math.exp(logits[o + c] - max) / sum - (c === label ? 1 : 0)) * inv;
  }
  return { lossSum, correct };
}

/** Row-wise softmax probabilities (for predict). */
export function softmax(logits: Float32Array, out: Float32Array, M: number, C: number): void {
  for (let i = 0; i < M; i++) {
    const o = i * C;
    let max = -Infinity;
    for (let c = 0; c < C; c++) max = Math.max(max, logits[o + c]);
    let sum = 0;
    for (let c = 0; c < C; c++) sum += (out[o + c] = Math.exp(logits[o + c] - max));
    for (let c = 0; c < C; c++) out[o + c] /= sum;
  }
}

export interface AdamHyper { learningRate: number; beta1: number; beta2: number; epsilon: number }

/**
 * The Adam step size at step t (1-based) with Keras's bias correction folded
 * into the learning rate: lr·sqrt(1-β2^t)/(1-β1^t). Computed on the host in
 * float64 and handed to every kernel as one f32, so all backends agree.
 */
export function adamStepSize(h: AdamHyper, t: number): number {
  return (h.learningRate * Math.sqrt(1 - Math.pow(h.beta2, t))) / (1 - Math.pow(h.beta1, t));
}

/**
 * Fused Adam update (Keras semantics):
 *   m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²;  p -= alpha·m / (sqrt(v) + ε)
 * with alpha = adamStepSize(h, t).
 */
export function adam(
  p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, n: number,
  alpha: number, beta1: number, beta2: number, epsilon: number,
): void {
  const b1c = 1 - beta1, b2c = 1 - beta2;
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const mi = (m[i] = beta1 * m[i] + b1c * gi);
    const vi = (v[i] = beta2 * v[i] + b2c * gi * gi);
    p[i] -= (alpha * mi) / (Math.sqrt(vi) + epsilon);
  }
}

/** The f32 factor that turns a pixel byte into [0, 1]: every backend multiplies by this exact value. */
export const PIXEL_SCALE = Math.fround(1 / 255);

/**
 * Gather a batch: row r of X is example order[offset + r] of the uint8
 * image set, scaled to [0, 1] by PIXEL_SCALE; labelsOut[r] its label.
 */
export function gather(
  images: Uint8Array, labels: Uint8Array, order: Uint32Array, offset: number, rows: number,
  features: number, X: Float32Array, labelsOut: Uint8Array | Int32Array,
): void {
  for (let r = 0; r < rows; r++) {
    const ex = order[offset + r];
    const src = ex * features, dst = r * features;
    for (let j = 0; j < features; j++) X[dst + j] = images[src + j] * PIXEL_SCALE;
    labelsOut[r] = labels[ex];
  }
}
