// A character model's page parts (dataset format: text): the corpus fetched
// from the page's server and cut exactly as the Node loader cuts it, and
// text sampled from the current weights, shown beside the loss plot after
// every epoch (training waits for it, so the sample sees that epoch's weights).

import * as tessera from '../src/browser.js';
import type { Model, ModelSpec, TextDataset } from '../src/browser.js';
import { state } from './state.js';
import { ui } from './ui.js';

/** Where the page's server has a YAML's corpus: test/fixtures/text files under text/, fortune files under fortunes/. */
export function textUrl(spec: ModelSpec): string {
  const ds = spec.dataset;
  if (ds.paths && ds.paths.length !== 1) throw new Error(`dataset paths: the page reads one text file; a list of ${ds.paths.length} is for the CLI`);
  const path = ds.paths?.[0] ?? ds.path ?? '';
  const name = path.split('/').pop() ?? '';
  if (/^\/usr\/share\/games\/fortunes\/[\w-]+$/.test(path)) return `fortunes/${name}`;
  if (/^[\w.-]+\.txt$/.test(name)) return `text/${name}`;
  throw new Error(`dataset path ${path}: the page serves one text file, text/<name>.txt (test/fixtures/text) or fortunes/<file>; a folder of files is for the CLI`);
}

const cache = new Map<string, Promise<TextDataset>>();

/** The YAML's corpus as training and test windows, fetched once per file, window length and split. */
export function loadTextData(spec: ModelSpec): Promise<TextDataset> {
  const url = textUrl(spec);
  const T = spec.dataset.sequence_length!, split = spec.dataset.test_split ?? 0.1;
  const key = `${url} ${T} ${split}`;
  let p = cache.get(key);
  if (!p) {
    ui.dataStatus.textContent = `loading ${url}…`;
    p = tessera.loadTextFromUrl(url, { sequenceLength: T, testSplit: split }).then((d) => {
      ui.dataStatus.textContent = `${url}: ${d.summary}`;
      return d;
    });
    p.catch(() => { cache.delete(key); ui.dataStatus.textContent = ''; });
    cache.set(key, p);
  }
  return p;
}

export interface SampleOptions { prompt: string; length: number; temperature: number; seed: number }

/** What tessera generate prints after the prompt, for the same weights and options (src/runtime/sampling.ts). */
export async function sampleText(m: Model, vocabulary: readonly string[], o: SampleOptions): Promise<string> {
  const T = m.graph.inputFeatures;
  const reader = m.backend as unknown as { readBuffer(name: string): Float32Array | Promise<Float32Array> };
  const prompt = Array.from(tessera.encodeText(o.prompt, vocabulary, 'the prompt'));
  const ids = await tessera.generateIds(prompt, { window: T, vocabulary: vocabulary.length, length: o.length, temperature: o.temperature, seed: o.seed }, async (window) => {
    await m.backend.predict(new Uint8Array(window.buffer), 1);
    return (await reader.readBuffer(m.graph.logits)).subarray(0, T * vocabulary.length);
  });
  return tessera.decodeIds(ids, vocabulary);
}

/** The page's sample after an epoch: the corpus's first characters continued at temperature 0.8 with the spec's seed. */
export async function showSample(m: Model, data: TextDataset, epoch: number): Promise<void> {
  const first = tessera.decodeIds(new Float32Array(data.train.images.buffer, data.train.images.byteOffset, 8), data.vocabulary);
  const prompt = first.split('\n')[0] || first;
  const text = await sampleText(m, data.vocabulary, { prompt, length: 160, temperature: 0.8, seed: m.spec.seed });
  state.samples.push({ epoch, prompt, text });
  ui.sampleEpoch.textContent = epoch > 0 ? `after epoch ${epoch}` : 'from the loaded weights';
  ui.sample.textContent = `${prompt}${text}`;
  ui.sampleCard.hidden = false;
}
