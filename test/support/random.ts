// Random kernel inputs for the wasm and webgpu kernel suites: deterministic,
// never zero (a kernel that ignores an input must not pass by luck), drawn
// from the counter RNG so each suite's inputs are fixed by (seed, stream).

import { hashAt, rngKey } from '../../src/runtime/rng.js';

export interface KernelRandoms {
  /** n values in [-scale, scale] \ {0}, or in (0, scale] when `positive`. */
  rand(n: number, scale?: number, positive?: boolean): Float32Array;
  /** n random bytes (pixels). */
  randBytes(n: number): Uint8Array;
}

/** Generators that share one stream counter: each call takes the next stream after `firstStream`. */
export function kernelRandoms(seed: number, firstStream: number): KernelRandoms {
  let stream = firstStream;
  return {
    rand(n, scale = 1, positive = false) {
      const key = rngKey(seed, stream++, 0);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const u = ((hashAt(key, i) >>> 8) + 0.5) / 16777216; // (0, 1), never 0
        out[i] = positive ? u * scale : (2 * u - 1) * scale || 0.25 * scale;
      }
      return out;
    },
    randBytes(n) {
      const key = rngKey(seed, stream++, 0);
      return Uint8Array.from({ length: n }, (_, i) => hashAt(key, i) & 255);
    },
  };
}
