// Counter-based random numbers, identical in TypeScript, WGSL and
// AssemblyScript (kernels/wgsl/rng.wgsl, kernels/as/rng.ts).
//
// Algorithm (u32 arithmetic only, every multiply is a 32-bit wrapping
// multiply, every shift logical):
//
//   mix32(x):  x ^= x >> 16;  x *= 0x7feb352d;
//              x ^= x >> 15;  x *= 0x846ca68b;
//              x ^= x >> 16;  return x            ("lowbias32", C. Wellons)
//
//   key(seed, stream, step) = mix32(mix32(mix32(seed ^ 0x9e3779b9) ^ stream) ^ step)
//   hash(seed, stream, step, index) = mix32(key(seed, stream, step) ^ index)
//
// A kernel computes `key` once per dispatch and one mix32 per element.
// Streams name what the numbers are for (weight init, shuffle, one per
// dropout layer), so changing one never shifts another. Uniform floats use
// the top 24 bits, which f32 holds exactly: u = (h >>> 8) * 2^-24 in [0, 1).
// Dropout compares integers, not floats, so every backend keeps exactly the
// same elements: keep iff (h >>> 8) >= dropoutThreshold(rate).

export const STREAM_INIT = 1;
export const STREAM_SHUFFLE = 2;
/** The test_split of a CSV or .npz dataset (src/data/preprocess.ts). */
export const STREAM_TEST_SPLIT = 3;
/** Dropout layer i (0-based position in the model's layer list) uses stream STREAM_DROPOUT_BASE + i. */
export const STREAM_DROPOUT_BASE = 16;

export function mix32(x: number): number {
  x >>>= 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

export function rngKey(seed: number, stream: number, step: number): number {
  return mix32(mix32(mix32((seed ^ 0x9e3779b9) >>> 0) ^ stream) ^ step);
}

export function hashAt(key: number, index: number): number {
  return mix32((key ^ index) >>> 0);
}

export function hash(seed: number, stream: number, step: number, index: number): number {
  return hashAt(rngKey(seed, stream, step), index);
}

/** Uniform in [0, 1) from a hash value, exactly representable as f32. */
export function uniform01(h: number): number {
  return (h >>> 8) * 5.9604644775390625e-8; // 2^-24
}

/** Integer threshold on the top 24 bits: an element is dropped iff (h >>> 8) < threshold. */
export function dropoutThreshold(rate: number): number {
  return Math.min(16777216, Math.round(rate * 16777216));
}

/** The f32 scale applied to kept elements, 1 / (1 - rate), as every backend uses it. */
export function dropoutScale(rate: number): number {
  return Math.fround(1 / (1 - rate));
}

/** Glorot (Xavier) uniform init as Keras: U(-limit, limit), limit = sqrt(6 / (fanIn + fanOut)). */
export function glorotUniform(out: Float32Array, fanIn: number, fanOut: number, seed: number, paramIndex: number): void {
  randomUniform(out, Math.sqrt(6 / (fanIn + fanOut)), seed, paramIndex);
}

/** Uniform in (−limit, limit), from the same counter stream as Glorot (one stream per parameter). */
export function randomUniform(out: Float32Array, limit: number, seed: number, paramIndex: number): void {
  const key = rngKey(seed, STREAM_INIT, paramIndex);
  for (let i = 0; i < out.length; i++) out[i] = (2 * uniform01(hashAt(key, i)) - 1) * limit;
}

/**
 * The order of training examples for one epoch: a Fisher–Yates shuffle
 * driven by hash(seed, STREAM_SHUFFLE, epoch, i). With shuffle off, 0..n-1.
 */
export function epochOrder(n: number, seed: number, epoch: number, shuffle: boolean, out = new Uint32Array(n)): Uint32Array {
  for (let i = 0; i < n; i++) out[i] = i;
  if (!shuffle) return out;
  const key = rngKey(seed, STREAM_SHUFFLE, epoch);
  for (let i = n - 1; i > 0; i--) {
    const j = hashAt(key, i) % (i + 1);
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}
