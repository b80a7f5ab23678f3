// Independent float64 versions of the ops, written from their definitions
// (the formulas in DESIGN.md's kernel table and the header of
// src/runtime/rng.ts), sharing no code with src/: for the tests that must
// not compare a function with itself (the js backend and the js bench
// runner *are* the reference kernels). Plain textbook loops, no skipping of
// zeros, no fused tricks; the RNG in BigInt arithmetic mod 2^32.

// ---------------------------------------------------------------- the counter RNG

const M32 = (1n << 32n) - 1n;

/** lowbias32, as rng.ts's header writes it, in arbitrary-precision integers reduced mod 2^32. */
export function mix32Big(x: bigint): bigint {
  x &= M32;
  x ^= x >> 16n; x = (x * 0x7feb352dn) & M32;
  x ^= x >> 15n; x = (x * 0x846ca68bn) & M32;
  x ^= x >> 16n;
  return x;
}

/** key(seed, stream, step) = mix32(mix32(mix32(seed ^ 0x9e3779b9) ^ stream) ^ step). */
export function keyBig(seed: number, stream: number, step: number): bigint {
  return mix32Big(mix32Big(mix32Big(BigInt(seed >>> 0) ^ 0x9e3779b9n) ^ BigInt(stream >>> 0)) ^ BigInt(step >>> 0));
}

/**
 * The dropout keep-mask by definition: element i is dropped iff the top 24
 * bits of hash(key, i) = mix32(key ^ i) are below rate·2^24 (rounded), so a
 * fraction `rate` is dropped. 1 = kept.
 */
export function dropoutKeep64(key: bigint, n: number, rate: number): Uint8Array {
  const threshold = BigInt(Math.round(rate * 2 ** 24));
  const keep = new Uint8Array(n);
  for (let i = 0; i < n; i++) keep[i] = mix32Big(key ^ BigInt(i)) >> 8n >= threshold ? 1 : 0;
  return keep;
}

/** Inverted dropout: kept elements scaled by 1/(1 − rate) (in float64), dropped ones 0. */
export function dropout64(x: ArrayLike<number>, keep: Uint8Array, rate: number): Float64Array {
  return Float64Array.from({ length: x.length }, (_, i) => (keep[i] ? x[i] / (1 - rate) : 0));
}

// ---------------------------------------------------------------- dense layers

/** Y[M×N] = X[M×K]·W[K×N] + b, then max(·, 0) when relu. */
export function dense64(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null, M: number, K: number, N: number, relu: boolean): Float64Array {
  const y = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = b ? b[j] : 0;
    for (let k = 0; k < K; k++) s += x[i * K + k] * w[k * N + j];
    y[i * N + j] = relu ? Math.max(s, 0) : s;
  }
  return y;
}

/** dW[K×N] = Xᵀ·dY, db[N] = Σ_rows dY. */
export function denseGradWeights64(x: ArrayLike<number>, dy: ArrayLike<number>, M: number, K: number, N: number): { dw: Float64Array; db: Float64Array } {
  const dw = new Float64Array(K * N), db = new Float64Array(N);
  for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) {
    let s = 0;
    for (let i = 0; i < M; i++) s += x[i * K + k] * dy[i * N + j];
    dw[k * N + j] = s;
  }
  for (let j = 0; j < N; j++) for (let i = 0; i < M; i++) db[j] += dy[i * N + j];
  return { dw, db };
}

/** dX[M×K] = dY·Wᵀ, zeroed where the previous ReLU's output is not positive (when given). */
export function denseGradInput64(dy: ArrayLike<number>, w: ArrayLike<number>, reluOut: ArrayLike<number> | null, M: number, K: number, N: number): Float64Array {
  const dx = new Float64Array(M * K);
  for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) {
    if (reluOut && !(reluOut[i * K + k] > 0)) continue;
    let s = 0;
    for (let j = 0; j < N; j++) s += dy[i * N + j] * w[k * N + j];
    dx[i * K + k] = s;
  }
  return dx;
}

/** dX = dY where the ReLU output is positive, else 0. */
export function reluGrad64(dy: ArrayLike<number>, y: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: dy.length }, (_, i) => (y[i] > 0 ? dy[i] : 0));
}

// ---------------------------------------------------------------- loss and optimiser

/**
 * Softmax cross-entropy of M rows of C logits: loss summed over rows
 * (−log softmax(z)[label]), rows whose first maximum is the label, and the
 * gradient of the mean loss over `gradRows` rows: (softmax(z) − onehot)/gradRows.
 */
export function softmaxXent64(z: ArrayLike<number>, labels: ArrayLike<number>, M: number, C: number, gradRows = M): { lossSum: number; correct: number; dlogits: Float64Array } {
  let lossSum = 0, correct = 0;
  const dlogits = new Float64Array(M * C);
  for (let i = 0; i < M; i++) {
    const row = Array.from({ length: C }, (_, c) => z[i * C + c]);
    const max = Math.max(...row);
    const e = row.map((v) => Math.exp(v - max));
    const sum = e.reduce((a, b) => a + b, 0);
    lossSum += -Math.log(e[labels[i]] / sum);
    if (row.indexOf(max) === labels[i]) correct++;
    for (let c = 0; c < C; c++) dlogits[i * C + c] = (e[c] / sum - (c === labels[i] ? 1 : 0)) / gradRows;
  }
  return { lossSum, correct, dlogits };
}

export interface Adam64 { learningRate: number; beta1: number; beta2: number; epsilon: number }

/**
 * One Adam step t (1-based), Keras semantics: m = β1 m + (1−β1) g,
 * v = β2 v + (1−β2) g², p −= lr·√(1−β2^t)/(1−β1^t) · m/(√v + ε).
 */
export function adam64(p: ArrayLike<number>, g: ArrayLike<number>, m: ArrayLike<number>, v: ArrayLike<number>, h: Adam64, t: number): { p: Float64Array; m: Float64Array; v: Float64Array } {
  const n = p.length;
  const out = { p: new Float64Array(n), m: new Float64Array(n), v: new Float64Array(n) };
  const lrT = h.learningRate * Math.sqrt(1 - h.beta2 ** t) / (1 - h.beta1 ** t);
  for (let i = 0; i < n; i++) {
    out.m[i] = h.beta1 * m[i] + (1 - h.beta1) * g[i];
    out.v[i] = h.beta2 * v[i] + (1 - h.beta2) * g[i] * g[i];
    out.p[i] = p[i] - lrT * out.m[i] / (Math.sqrt(out.v[i]) + h.epsilon);
  }
  return out;
}
