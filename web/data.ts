// The page's dataset: MNIST's four IDX files under data/ (npm run web
// serves them), limited by ?limit and ?test.

import * as tessera from '../src/browser.js';
import type { DatasetTensors } from '../src/browser.js';
import { options } from './state.js';
import { ui } from './ui.js';

let data: { train: DatasetTensors; test: DatasetTensors } | null = null;
let dataPromise: Promise<{ train: DatasetTensors; test: DatasetTensors }> | null = null;

/**
 * MNIST from the page's server, fetched once and kept; the line beside the
 * Train button shows the download's progress. A failed fetch is forgotten,
 * so the next Train tries again.
 */
export function loadData(): Promise<{ train: DatasetTensors; test: DatasetTensors }> {
  if (data) return Promise.resolve(data);
  dataPromise ??= (async () => {
    ui.dataStatus.textContent = 'loading MNIST…';
    const t0 = performance.now();
    const d = await tessera.loadMnistFromUrl('data/', {
      trainLimit: options.limit,
      testLimit: options.testLimit,
      onProgress: (l, t) => { if (t > 0) ui.dataStatus.textContent = `loading MNIST… ${Math.round((100 * l) / t)}%`; },
    });
    ui.dataStatus.textContent = `MNIST: ${d.train.count.toLocaleString('en-US')} train, ${d.test.count.toLocaleString('en-US')} test images (${((performance.now() - t0) / 1000).toFixed(1)} s)`;
    data = d;
    return d;
  })().catch((err) => {
    dataPromise = null;
    ui.dataStatus.textContent = '';
    throw err;
  });
  return dataPromise;
}
