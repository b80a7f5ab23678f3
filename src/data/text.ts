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
import { sliceExamples } from './split.js';
import type { DataFacts, DatasetTensors } from './types.js';

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

/** A corpus as training and test windows: what format: text loads, in Node (text-node.ts) and in a page (browser.ts). */
export interface TextDataset {
  train: DatasetTensors;
  test: DatasetTensors;
  vocabulary: string[];
  facts: DataFacts;
  /** For people: characters, vocabulary size and window counts. */
  summary: string;
}

/**
 * `text` cut into windows of T ids; the last `testSplit` of the windows
 * (the end of the corpus, unshuffled, so no test window overlaps a training
 * one) is the test set. The vocabulary is the text's unless given (the one
 * saved with the weights).
 */
export function textDataset(text: string, T: number, testSplit: number, source: string, vocabulary = buildVocabulary(text)): TextDataset {
  const all = textWindows(encodeText(text, vocabulary, source), T, source);
  const testCount = Math.ceil(all.count * testSplit);
  if (testCount >= all.count) throw new DataError(source, `${source}: ${all.count} windows of ${T} characters are too few to hold out test_split ${testSplit}`);
  const train = sliceExamples(all, 0, all.count - testCount), test = sliceExamples(all, all.count - testCount, all.count);
  const facts: DataFacts = { source, inputShape: [T], classes: vocabulary.length, dtype: 'float32', train: train.count, test: test.count, classNames: vocabulary };
  const summary = `${text.length.toLocaleString('en-US')} characters, ${vocabulary.length} distinct: ${train.count} training and ${test.count} test windows of ${T}`;
  return { train, test, vocabulary, facts, summary };
}
