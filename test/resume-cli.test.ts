// `tessera train --resume` end to end on wasm: a run interrupted by Ctrl-C
// (the real SIGINT handler: TESSERA_TEST_SIGINT_AT_STEP makes the command
// send itself the signal at a known step) and resumed from its checkpoint
// prints and records the same losses, bit for bit in the --history JSON,
// and the same test numbers as an uninterrupted run. model_checkpoint's
// files (written atomically: no temporary file is left) resume the same
// way; a checkpoint read by another run is refused, listing the differences.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tessera, tesseraWithEnv } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-resume-'));
// The flagship model with a held-out split and a model_checkpoint after every epoch.
const model = join(dir, 'model.yaml');
writeFileSync(model, readFileSync('models/mnist.yaml', 'utf8').replace('  shuffle: true\n', [
  '  shuffle: true', '  validation_split: 0.1', '  callbacks:',
  `    - {type: model_checkpoint, filepath: "${dir}/every/ck-{epoch:02d}.safetensors"}`,
  `    - {type: model_checkpoint, filepath: "${dir}/best.safetensors", save_best_only: true, save_weights_only: true, verbose: 1}`, '',
].join('\n')));
const RUN = ['train', model, '--backend', 'wasm', '--epochs', '3', '--limit', '2500']; // 2,250 train: 71 steps per epoch

interface History { history: { loss: number[]; accuracy: number[]; val_loss: number[]; val_accuracy: number[]; learning_rate: number[] }; test: unknown }
const history = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as History;
const epochLines = (stdout: string) => stdout.split('\n').filter((l) => /^epoch \d\/3  loss/.test(l)).map((l) => l.replace(/\s+[\d.]+ s$/, ''));
const testLine = (stdout: string) => stdout.split('\n').find((l) => l.startsWith('test '));

function sameHistory(got: History, want: History, what: string) {
  for (const k of ['loss', 'accuracy', 'val_loss', 'val_accuracy', 'learning_rate'] as const) assert.equal(got.history[k], want.history[k], `${what}: ${k}`);
  assert.equal(got.test, want.test, `${what}: test`);
}

const full = await tessera(...RUN, '--history', join(dir, 'full.json'));

test('uninterrupted: model_checkpoint writes every epoch, and the best weights, atomically', () => {
  assert.is(full.code, 0, full.stdout + full.stderr);
  assert.equal(readdirSync(join(dir, 'every')), ['ck-01.safetensors', 'ck-02.safetensors', 'ck-03.safetensors']);
  assert.match(full.stdout, `Epoch 1: val_loss improved from Infinity to `);
  assert.ok(!readdirSync(dir).some((f) => f.includes('.tmp-')), readdirSync(dir).join(', '));
});

test('Ctrl-C writes a checkpoint and says how to resume; the resumed run prints and records the same losses', async () => {
  const ckpt = join(dir, 'ctrl-c.safetensors');
  const stopped = await tesseraWithEnv({ TESSERA_TEST_SIGINT_AT_STEP: '100' }, ...RUN, '--save', ckpt);
  assert.is(stopped.code, 130, stopped.stdout + stopped.stderr);
  const at = /saved a resumable checkpoint \(weights, optimizer state, step (\d+)\) to (.*)\n/.exec(stopped.stdout);
  assert.ok(at && at[2] === ckpt, stopped.stdout);
  const step = Number(at![1]);
  assert.ok(step > 71 && step < 142, `stopped in epoch 2, at global step ${step}`);
  const again = /continue with: tessera (.*)\n/.exec(stopped.stdout)![1]!.split(' ');
  assert.equal(again, [...RUN, '--save', ckpt, '--resume', ckpt]);
  const resumed = await tessera(...again.slice(0, -4), '--resume', ckpt, '--history', join(dir, 'resumed.json'));
  assert.is(resumed.code, 0, resumed.stdout + resumed.stderr);
  assert.match(resumed.stdout, `resuming from ${ckpt}: epoch 2, step ${step - 71}/71 (global step ${step}), learning rate 0.001\n`);
  assert.equal(epochLines(resumed.stdout), epochLines(full.stdout));
  assert.is(testLine(resumed.stdout), testLine(full.stdout));
  sameHistory(history(join(dir, 'resumed.json')), history(join(dir, 'full.json')), 'resumed after Ctrl-C');
});

test("model_checkpoint's epoch-1 file resumes to the same losses; eval reads a checkpoint; another run's settings are refused", async () => {
  const ck1 = join(dir, 'every', 'ck-01.safetensors');
  const resumed = await tessera(...RUN, '--resume', ck1, '--history', join(dir, 'from-ck1.json'));
  assert.is(resumed.code, 0, resumed.stdout + resumed.stderr);
  assert.match(resumed.stdout, `resuming from ${ck1}: the end of epoch 1 (global step 71)`);
  sameHistory(history(join(dir, 'from-ck1.json')), history(join(dir, 'full.json')), 'resumed from ck-01');
  const refused = await tessera(...RUN.slice(0, -2), '--limit', '3000', '--batch-size', '64', '--resume', ck1);
  assert.is(refused.code, 1);
  assert.is(refused.stderr.trim(), [
    `${ck1}: checkpoint of a different model, optimizer or data, not resumed (2 differences):`,
    '  - training.batch_size: 32 in the checkpoint, 64 in this run',
    '  - training examples: 2250 in the checkpoint, 2700 in this run (the same --limit and validation_split are needed)',
  ].join('\n'));
  // eval reads a checkpoint's weights: the last epoch's file gives the run's test numbers.
  const evaluated = await tessera('eval', model, '--backend', 'wasm', '--weights', join(dir, 'every', 'ck-03.safetensors'));
  assert.is(evaluated.code, 0, evaluated.stderr);
  assert.is(testLine(evaluated.stdout), testLine(full.stdout));
  const weightsOnly = await tessera(...RUN, '--resume', join(dir, 'best.safetensors'));
  assert.is(weightsOnly.code, 1);
  assert.match(weightsOnly.stderr, 'not a resumable checkpoint: it holds weights only');
});

test.run();
