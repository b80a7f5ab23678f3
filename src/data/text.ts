// Character-level text data (dataset format: text): a vocabulary of the
// characters of the training text, and the text cut into windows of
// `sequence_length` characters whose targets are the same windows shifted
// by one (the next character at every position). Browser-safe.
//
// Windows do not overlap (window w starts at character w·T), so an epoch
// sees each character once as an input; the ids are stored as float32
// features (the embedding layer reads them as integers) and the next-ids as
// float targets of width T, so the ordinary gather ops and the resident
// sets carry them with no text-specific code on any backend.

import { DataError } from './errors.js';
import type { DatasetTensors } from './types.js';

/** The characters of `text` (whole code points), sorted by code point: id i is vocabulary[i]. */
export function buildVocabulary(text: string): string[] {
  return [...new Set(text)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
}

/** Ids of `text`'s characters; a character outside the vocabulary is an error that names it and where it is. */
export function encodeText(text: string, vocabulary: readonly string[], source: string): Uint16Array {
  const idOf = new Map(vocabulary.map((c, i) => [c, i]));
  const chars = [...text];
  const ids = new Uint16Array(chars.length);
  chars.forEach((c, i) => {
    const id = idOf.get(c);
    if (id === undefined) throw new DataError(source, `${source}: character ${JSON.stringify(c)} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) at character ${i} is not in the model's vocabulary of ${vocabulary.length}`);
    ids[i] = id;
  });
  return ids;
}

/** Text cut into non-overlapping windows of T ids, each with the next id at every position as its targets. */
export function textWindows(ids: ArrayLike<number>, T: number, source: string): DatasetTensors {
  const count = Math.floor((ids.length - 1) / T);
  if (count < 1) throw new DataError(source, `${source}: ${ids.length} characters are too few for one window of sequence_length ${T} (plus the next character)`);
  const inputs = new Float32Array(count * T);
  const targets = new Float32Array(count * T);
  for (let w = 0; w < count; w++) {
    for (let t = 0; t < T; t++) {
      inputs[w * T + t] = ids[w * T + t]!;
      targets[w * T + t] = ids[w * T + t + 1]!;
    }
  }
  return {
    images: new Uint8Array(inputs.buffer),
    labels: new Uint8Array(count),
    count,
    features: T,
    targets,
    targetWidth: T,
    dtype: 'float32',
    shape: [T],
  };
}

/** A window's ids back to text (generation, messages). */
export function decodeIds(ids: ArrayLike<number>, vocabulary: readonly string[]): string {
  let out = '';
  for (let i = 0; i < ids.length; i++) out += vocabulary[ids[i]!] ?? '\uFFFD';
  return out;
}
