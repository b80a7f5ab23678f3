// The demo page's character transformer (models/char-rhymes.yaml, issue 16
// "Browser") in headless Chromium, against the same run in this process:
//   1. Two epochs on test/fixtures/text/rhymes.txt (served under /text/) on
//      WASM and on WebGPU (SwiftShader): the page's window losses match
//      Node's wasm losses from the same seed, and the page showed a sample
//      of the current weights after each epoch beside the loss plot.
//   2. Weights trained in Node, loaded into the page: the text the page
//      samples with a fixed seed is the text Node samples (the same code path
//      as tessera generate: sampling.ts on the logits after predict).
//   3. An unknown input name in the editor is reported at its line and column.
// Tolerances: WASM as test/browser.test.ts (1e-4 relative per window);
// WebGPU 1e-3 (test/transformer.test.ts saw 1.3e-4 after 3 Adam steps on
// attention's tiny gradients; these are 20 steps).
// Chromium (test/support/page-suite.ts): /usr/bin/chromium (TESSERA_CHROMIUM); under CI=true a missing
// browser fails, otherwise the suite is skipped with a loud note.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { validateModelConfig } from '../src/config/validate.js';
import { decodeIds, encodeText, textDataset, type TextDataset } from '../src/data/text.js';
import { WasmBackend } from '../src/runtime/backends/wasm.js';
import { createModel, type Model, type ModelEvent } from '../src/runtime/model.js';
import { generateIds } from '../src/runtime/sampling.js';
import { PageSuite } from './support/page-suite.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = 'models/char-rhymes.yaml';
const yamlText = readFileSync(join(root, MODEL), 'utf8');
const EPOCHS = 2, EVERY = 5;
const QUERY = `?model=char-rhymes&epochs=${EPOCHS}&every=${EVERY}`;

interface PageState {
  backend: { name: string } | null;
  status: string;
  error: string | null;
  chunks: { loss: number }[];
  samples: { epoch: number; prompt: string; text: string }[];
  validation: { ok: boolean; errors: { line: number; column: number; message: string }[] } | null;
}

const data: TextDataset = textDataset(readFileSync(join(root, 'test/fixtures/text/rhymes.txt'), 'utf8'), 16, 0.1, 'rhymes.txt');

const suite = new PageSuite('character-model');
const openPage = (query: string) => suite.openPage(query);
const pageState = (page: Page) => suite.state<PageState>(page);

async function nodeModel(): Promise<Model> {
  const r = validateModelConfig(yamlText, MODEL, { data: data.facts });
  if (!r.ok) throw new Error(`${MODEL} is invalid`);
  return createModel(r.spec, { backend: await WasmBackend.create({ threads: 1 }) });
}

/** What the page's text.ts sampleText does, here on Node's backend. */
async function nodeSample(m: Model, prompt: string, length: number, temperature: number, seed: number): Promise<string> {
  const T = m.graph.inputFeatures, V = data.vocabulary.length;
  const reader = m.backend as unknown as { readBuffer(name: string): Promise<Float32Array> };
  const ids = await generateIds(Array.from(encodeText(prompt, data.vocabulary, 'prompt')), { window: T, vocabulary: V, length, temperature, seed }, async (w) => {
    await m.backend.predict(new Uint8Array(w.buffer), 1);
    return (await reader.readBuffer(m.graph.logits)).subarray(0, T * V);
  });
  return decodeIds(ids, data.vocabulary);
}

async function nodeLosses(): Promise<number[]> {
  const m = await nodeModel();
  try {
    const losses: number[] = [];
    const onEvent = (e: ModelEvent) => { if (e.type === 'progress') losses.push(e.window.loss); };
    await m.fit(data.train, { epochs: EPOCHS, progressEvery: EVERY, test: data.test, onEvent });
    return losses;
  } finally {
    m.dispose();
  }
}

const bt = (name: string, fn: () => Promise<void>) => suite.add(name, fn);

bt('the character transformer trains in the page on WASM and WebGPU, matches Node\'s losses and shows a sample after every epoch', async () => {
  const node = await nodeLosses();
  assert.is(node.length, Math.ceil(Math.ceil(data.train.count / 16) / EVERY) * EPOCHS, `Node's windows: ${node.length}`);
  for (const [name, rtol] of [['wasm', 1e-4], ['webgpu', 1e-3]] as const) {
    const page = await openPage(`${QUERY}&backend=${name}`);
    assert.is((await pageState(page)).backend?.name, name);
    await page.click('#train');
    await suite.trainingEnded(page, 300_000);
    const st = await pageState(page);
    assert.is(st.error, null, `training in the page failed: ${st.error}`);
    const losses = st.chunks.map((c) => c.loss);
    assert.is(losses.length, node.length, `${name}: windows in the page vs Node`);
    let worst = 0;
    losses.forEach((l, i) => {
      const rel = Math.abs(l - node[i]!) / Math.abs(node[i]!);
      worst = Math.max(worst, rel);
      assert.ok(rel <= rtol, `${name}: window ${i + 1} loss ${l} in the page vs ${node[i]} in Node (relative ${rel.toExponential(2)} > ${rtol})`);
    });
    console.log(`  char-rhymes on ${name}: ${losses.length} windows, worst relative difference to Node wasm ${worst.toExponential(2)}`);
    assert.equal(st.samples.map((s) => s.epoch), [1, 2], 'one sample after each epoch');
    for (const s of st.samples) {
      assert.is([...s.text].length, 160);
      assert.ok([...s.text].every((c) => data.vocabulary.includes(c)), `the sample's characters come from the corpus: ${JSON.stringify(s.text)}`);
    }
    assert.is(await page.textContent('#sample'), st.samples[1]!.prompt + st.samples[1]!.text, 'the last sample is shown');
    assert.ok(await page.isVisible('#sample'));
  }
});

bt('weights trained in Node, loaded into the page, sample the same text with a fixed seed as Node does', async () => {
  const m = await nodeModel();
  let bytes: Uint8Array, expected: string, greedy: string;
  try {
    await m.fit(data.train, { epochs: 3 });
    bytes = await m.saveWeights();
    expected = await nodeSample(m, 'a dog', 60, 0.8, 11);
    greedy = await nodeSample(m, 'a dog', 30, 0, 11);
  } finally {
    m.dispose();
  }
  const page = await openPage(`${QUERY}&backend=wasm`);
  await page.evaluate((b) => (window as unknown as { __app: { loadWeights(b: number[]): Promise<void> } }).__app.loadWeights(b), Array.from(bytes));
  const gen = (prompt: string, n: number, t: number, seed: number) =>
    page.evaluate(([p, n, t, s]) => (window as unknown as { __app: { generate(p: string, n: number, t: number, s: number): Promise<string> } }).__app.generate(p as string, n as number, t as number, s as number), [prompt, n, t, seed] as const);
  assert.is(await gen('a dog', 60, 0.8, 11), expected, 'seeded sampling at temperature 0.8');
  assert.is(await gen('a dog', 30, 0, 11), greedy, 'greedy');
  const st = await pageState(page);
  assert.is(st.samples.length, 1, 'loading weights shows a sample');
  assert.is(st.samples[0]!.epoch, 0);
});

bt('an unknown input name in the character model is shown at its line and column in the editor', async () => {
  const page = await openPage(QUERY);
  const from = '{type: add, name: res1, inputs: [embed, attn]}';
  assert.ok(yamlText.includes(from));
  const bad = yamlText.replace(from, '{type: add, name: res1, inputs: [embed, atn]}');
  const lines = bad.split('\n');
  const line = lines.findIndex((l) => l.includes('inputs: [embed, atn]')) + 1;
  await page.fill('#yaml', bad);
  await page.waitForFunction((n) => { const v = (window as unknown as { __app: { state: PageState } }).__app.state.validation; return v && !v.ok && v.errors.some((e) => e.line === n); }, line, { timeout: 10_000 });
  const err = (await pageState(page)).validation!.errors[0]!;
  assert.is(err.line, line);
  assert.match(err.message, /atn/);
  const nodeResult = validateModelConfig(bad, 'char-rhymes.yaml');
  assert.ok(!nodeResult.ok);
  if (!nodeResult.ok) assert.equal([err.line, err.column, err.message], [nodeResult.errors[0]!.line, nodeResult.errors[0]!.column, nodeResult.errors[0]!.message]);
  assert.is(await page.locator('#errors li.error .where').first().textContent(), `${err.line}:${err.column}`);
  assert.ok(await page.isDisabled('#train'));
});

suite.register();
test.run();
