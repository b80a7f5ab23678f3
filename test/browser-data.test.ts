// The demo page with data the user brings (issue 13, "The page accepts a
// dropped CSV or .npz file next to the YAML"), in headless Chromium against
// the same run in this process:
//   1. models/iris.yaml with models/data/iris.csv given through the page's
//      "Data file…" input (WASM) and dropped on the page (WebGPU,
//      SwiftShader): the page validates the model against the file (input
//      shape [4] and 3 classes come from it, the layer table appears), trains
//      3 epochs, and every progress window's loss matches Node's wasm backend
//      on the file as `tessera train` loads it (the same seed, so the same
//      120 training and 30 test rows and statistics); the test accuracy is
//      Node's and the final line counts rows.
//   2. An .npz written by numpy (test/fixtures/npz) for a YAML typed into
//      the editor: validated (4×4 images, 3 classes), trained with Node's
//      losses; an .npz without y_train is its error.
//   3. A ragged CSV dropped on the page: one error naming the file and the
//      row (its line in the file), as the CLI says it, and Train is off.
// Tolerances: as test/browser.test.ts, 1e-4 relative per window (backends
// differ only by float summation order).
// Chromium (test/support/page-suite.ts): /usr/bin/chromium (TESSERA_CHROMIUM); under CI=true a missing
// browser fails, otherwise the suite is skipped with a loud note.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { validateModelConfig } from '../src/config/validate.js';
import { loadDataset } from '../src/data/load-node.js';
import type { LoadedData } from '../src/data/types.js';
import { WasmBackend } from '../src/runtime/backends/wasm.js';
import { createModel, type ModelEvent } from '../src/runtime/model.js';
import { PageSuite } from './support/page-suite.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = 'models/iris.yaml';
const CSV = join(root, 'models/data/iris.csv');
const NPZ = join(root, 'test/fixtures/npz');
const yamlText = readFileSync(join(root, MODEL), 'utf8');
const EPOCHS = 3, EVERY = 5, LOSS_RTOL = 1e-4;
const QUERY = `?model=iris&epochs=${EPOCHS}&every=${EVERY}`;

interface PageState {
  backend: { name: string } | null;
  status: string;
  error: string | null;
  chunks: { loss: number }[];
  test: { loss: number; accuracy: number } | null;
  data: { files: string[]; train: number; test: number; inputShape: number[]; classes: number } | null;
  validation: { ok: boolean; errors: { line: number; column: number; message: string }[] } | null;
}


const suite = new PageSuite('data-file');
const openPage = (query: string) => suite.openPage(query);
const pageState = (page: Page) => suite.state<PageState>(page);

/** Drops a file on the page as a person would (a drop event carrying it), not through the file input. */
const dropFile = (page: Page, name: string, text: string) =>
  page.evaluate(([n, t]) => {
    const dt = new DataTransfer();
    dt.items.add(new File([t!], n!, { type: 'text/csv' }));
    for (const type of ['dragover', 'drop']) document.body.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, [name, text]);

/** What `tessera train models/iris.yaml` does up to the window losses, here with the library on one wasm thread. */
async function nodeRun(): Promise<{ data: LoadedData; losses: number[]; test: { loss: number; accuracy: number } }> {
  const first = validateModelConfig(yamlText, MODEL);
  if (!first.ok) throw new Error(`${MODEL} is invalid`);
  const data = await loadDataset(first.spec, join(root, 'models'));
  const r = validateModelConfig(yamlText, MODEL, { data: data.facts });
  if (!r.ok) throw new Error(`${MODEL} does not fit its data`);
  const m = await createModel(r.spec, { backend: await WasmBackend.create({ threads: 1 }) });
  try {
    const losses: number[] = [];
    const onEvent = (e: ModelEvent) => { if (e.type === 'progress') losses.push(e.window.loss); };
    const result = await m.fit(data.train, { epochs: EPOCHS, progressEvery: EVERY, test: data.test, onEvent });
    return { data, losses, test: { loss: result.test!.loss, accuracy: result.test!.accuracy } };
  } finally {
    m.dispose();
  }
}

const bt = (name: string, fn: () => Promise<void>) => suite.add(name, fn);

bt('iris.csv chosen (WASM) or dropped (WebGPU) next to models/iris.yaml: validated against the file, trained, Node\'s losses', async () => {
  const node = await nodeRun();
  assert.is(node.losses.length, Math.ceil(Math.ceil(node.data.train.count / 8) / EVERY) * EPOCHS, `Node's windows: ${node.losses.length}`);
  for (const [name, how] of [['wasm', 'input'], ['webgpu', 'drop']] as const) {
    const page = await openPage(`${QUERY}&backend=${name}`);
    const before = await pageState(page);
    assert.is(before.validation?.ok, false, 'without its CSV the model cannot be checked or trained');
    assert.match(before.validation!.errors[0]!.message, /no data file yet: dataset\.path is data\/iris\.csv: drop iris\.csv/);
    assert.ok(await page.isDisabled('#train'));
    if (how === 'input') await page.setInputFiles('#data-file', CSV);
    else await dropFile(page, 'iris.csv', readFileSync(CSV, 'utf8'));
    await page.waitForFunction(() => (window as unknown as { __app: { state: PageState } }).__app.state.validation?.ok === true, null, { timeout: 10_000 });
    const valid = await pageState(page);
    assert.equal(valid.data, { files: ['iris.csv'], train: node.data.train.count, test: node.data.test.count, inputShape: [4], classes: 3 });
    assert.ok(await page.isVisible('#layers'), 'the layer table of the model checked against the file');
    assert.match(await page.textContent('#layers tfoot') ?? '', /131/, '4·16 + 16 + 16·3 + 3 = 131 parameters');
    await page.click('#train');
    await suite.trainingEnded(page, 120_000);
    const st = await pageState(page);
    assert.is(st.error, null, `training in the page failed: ${st.error}`);
    assert.is(st.backend?.name, name);
    const losses = st.chunks.map((c) => c.loss);
    assert.is(losses.length, node.losses.length, `${name}: windows in the page vs Node`);
    let worst = 0;
    losses.forEach((l, i) => {
      const rel = Math.abs(l - node.losses[i]!) / Math.abs(node.losses[i]!);
      worst = Math.max(worst, rel);
      assert.ok(rel <= LOSS_RTOL, `${name}: window ${i + 1} loss ${l} in the page vs ${node.losses[i]} in Node (relative ${rel.toExponential(2)} > ${LOSS_RTOL})`);
    });
    assert.ok(losses.at(-1)! < losses[0]!, `the loss falls: ${losses[0]} -> ${losses.at(-1)}`);
    assert.ok(Math.abs(st.test!.accuracy - node.test.accuracy) <= 1 / 30 + 1e-9, `${name}: test accuracy ${st.test!.accuracy} vs Node ${node.test.accuracy} (within one row)`);
    assert.match(await page.textContent('#final') ?? '', /on 30 rows\.$/);
    console.log(`  iris on ${name} (${how}): ${losses.length} windows, worst relative difference to Node wasm ${worst.toExponential(2)}, test accuracy ${(100 * st.test!.accuracy).toFixed(2)}%`);
  }
});

bt('an .npz written by numpy, chosen for a YAML typed into the editor: its 4×4 images and 3 classes, trained with Node\'s losses; one without y_train is its error', async () => {
  const yaml = ['name: npz', 'seed: 1', 'layers:', '  - {type: flatten}', '  - {type: dense, units: 16, activation: relu}', '  - {type: dense, units: 3, activation: linear}',
    'loss: {type: sparse_categorical_crossentropy, from_logits: true}', 'optimizer: {type: adam, learning_rate: 0.01}', 'training: {epochs: 3, batch_size: 8}',
    'dataset: {format: npz, path: data/images.npz}', 'backend: wasm', ''].join('\n');
  const first = validateModelConfig(yaml, 'npz.yaml');
  if (!first.ok) throw new Error('the npz model is invalid');
  const data = await loadDataset({ ...first.spec, dataset: { ...first.spec.dataset, path: 'images.npz' } }, NPZ);
  const r = validateModelConfig(yaml, 'npz.yaml', { data: data.facts });
  if (!r.ok) throw new Error('the npz model does not fit its data');
  const m = await createModel(r.spec, { backend: await WasmBackend.create({ threads: 1 }) });
  const node: number[] = [];
  try {
    await m.fit(data.train, { epochs: EPOCHS, progressEvery: EVERY, test: data.test, onEvent: (e: ModelEvent) => { if (e.type === 'progress') node.push(e.window.loss); } });
  } finally {
    m.dispose();
  }
  const page = await openPage(`${QUERY}&backend=wasm`);
  await page.fill('#yaml', yaml);
  await page.waitForFunction(() => ((window as unknown as { __app: { state: PageState } }).__app.state.validation?.errors ?? []).some((e) => e.message.includes('images.npz')), null, { timeout: 10_000 });
  assert.match((await pageState(page)).validation!.errors[0]!.message, /format npz: no data file yet: dataset\.path is data\/images\.npz: drop images\.npz/);
  await page.setInputFiles('#data-file', join(NPZ, 'images.npz'));
  await page.waitForFunction(() => (window as unknown as { __app: { state: PageState } }).__app.state.validation?.ok === true, null, { timeout: 10_000 });
  assert.equal((await pageState(page)).data, { files: ['images.npz'], train: 90, test: 30, inputShape: [4, 4], classes: 3 });
  await page.click('#train');
  await suite.trainingEnded(page, 120_000);
  const st = await pageState(page);
  assert.is(st.error, null, `training in the page failed: ${st.error}`);
  const losses = st.chunks.map((c) => c.loss);
  assert.is(losses.length, node.length);
  losses.forEach((l, i) => assert.ok(Math.abs(l - node[i]!) <= LOSS_RTOL * Math.abs(node[i]!), `window ${i + 1}: ${l} in the page vs ${node[i]} in Node`));
  assert.match(await page.textContent('#final') ?? '', /on 30 images\.$/);
  await page.setInputFiles('#data-file', join(NPZ, 'no-labels.npz'));
  await page.waitForFunction(() => ((window as unknown as { __app: { state: PageState } }).__app.state.validation?.errors ?? []).some((e) => e.message.includes('no-labels.npz')), null, { timeout: 10_000 });
  assert.match((await pageState(page)).validation!.errors[0]!.message, /^no-labels\.npz: no array y_train \(the file holds x_train\)/);
  assert.ok(await page.isDisabled('#train'));
});

bt('a ragged CSV dropped on the page: one error naming the file and the row, as the CLI words it; Train stays off', async () => {
  const lines = readFileSync(CSV, 'utf8').split('\n');
  lines[6] = lines[6]!.split(',').slice(0, 4).join(','); // line 7 of the file: a field short
  const page = await openPage(`${QUERY}&backend=wasm`);
  await dropFile(page, 'ragged-iris.csv', lines.join('\n'));
  await page.waitForFunction(() => ((window as unknown as { __app: { state: PageState } }).__app.state.validation?.errors ?? []).some((e) => e.message.includes('ragged-iris.csv')), null, { timeout: 10_000 });
  const st = await pageState(page);
  assert.is(st.validation!.ok, false);
  assert.is(st.validation!.errors.length, 1);
  assert.is(st.validation!.errors[0]!.message, 'ragged-iris.csv: row 7 has 4 fields, the header has 5');
  assert.is(st.data, null);
  assert.match(await page.locator('#errors li.error').first().textContent() ?? '', /ragged-iris\.csv: row 7 has 4 fields/);
  assert.ok(await page.isDisabled('#train'));
});

suite.register();
test.run();
