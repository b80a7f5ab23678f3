// Sampling text from a character-level model (tessera generate): the model
// sees a window of the last T ids and predicts the next one at the window's
// last filled position. The model is causal, so the positions after it (the
// padding of a short prompt) do not change that prediction. The draw for
// step s uses u = uniform(hash(seed, STREAM_GENERATE, 0, s)), so the same
// seed draws the same uniforms on every backend; the probabilities are
// computed here in float64 from the logits. Browser-safe.

import { hashAt, rngKey, uniform01 } from './rng.js';

/** The stream of generation's draws (apart from weight init, shuffles and dropout). */
export const STREAM_GENERATE = 4;

/**
 * The id drawn from softmax(logits / temperature) by inverse CDF with uniform
 * u in [0, 1); temperature 0 takes the argmax (the first, on ties).
 */
export function sampleId(logits: ArrayLike<number>, temperature: number, u: number): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  if (temperature <= 0) return best;
  const max = logits[best]!;
  const weights = Array.from({ length: logits.length }, (_, i) => Math.exp((logits[i]! - max) / temperature));
  let total = 0;
  for (const w of weights) total += w;
  let target = u * total;
  for (let i = 0; i < weights.length; i++) {
    target -= weights[i]!;
    if (target < 0) return i;
  }
  return weights.length - 1;
}

export interface GenerateOptions {
  /** Positions the model takes (its input_shape [T]). */
  window: number;
  /** Logits per position. */
  vocabulary: number;
  length: number;
  temperature: number;
  seed: number;
}

/**
 * `length` ids after `prompt`. `logitsOf(window)` returns the model's
 * logits [T × V] for one window of T ids (float ids, padded with 0).
 */
export async function generateIds(
  prompt: readonly number[], o: GenerateOptions, logitsOf: (window: Float32Array) => Promise<Float32Array>,
): Promise<number[]> {
  if (!prompt.length) throw new Error('generation needs a prompt of at least one character');
  const ids = [...prompt];
  const key = rngKey(o.seed, STREAM_GENERATE, 0);
  for (let s = 0; s < o.length; s++) {
    const context = ids.slice(-o.window);
    const window = new Float32Array(o.window);
    window.set(context);
    const logits = await logitsOf(window);
    const at = (context.length - 1) * o.vocabulary;
    ids.push(sampleId(logits.subarray(at, at + o.vocabulary), o.temperature, uniform01(hashAt(key, s))));
  }
  return ids.slice(prompt.length);
}
