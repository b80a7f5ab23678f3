// The CLI as a user runs it: a child process per call, through tsx, checking
// exit codes and the text that matters.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { tessera } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
const mnist = readFileSync('models/mnist.yaml', 'utf8');
const misspelt = join(dir, 'unts.yaml');
writeFileSync(misspelt, mnist.replace('units: 128', 'unts: 128'));
const unitsLine = mnist.split('\n').findIndex((l) => l.includes('units: 128')) + 1;

test('validate models/mnist.yaml: exit 0, summary and 101,770 parameters', async () => {
  const r = await tessera('validate', 'models/mnist.yaml');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, 'models/mnist.yaml: ok — mnist-mlp, 4 layers, 101,770 parameters');
  assert.match(r.stdout, /dense_1\s+dense\s+\(None, 128\)\s+100,480\s+relu/);
  assert.match(r.stdout, 'Total params: 101,770');
  assert.is(r.stderr, '');
});

test("misspelt 'unts': exit 1, file:line:col and did-you-mean", async () => {
  const r = await tessera('validate', misspelt);
  assert.is(r.code, 1);
  assert.match(r.stderr, `${misspelt}:${unitsLine}:5: error: unknown key 'unts' in dense layer; did you mean 'units'?`);
  assert.match(r.stderr, '    unts: 128\n');
  assert.match(r.stderr, /\n\s+\|     \^\^\^\^\n/);
  assert.match(r.stderr, `1 error in ${misspelt}`);
});

test('several files: exit 1 if any is invalid, each reported', async () => {
  const r = await tessera('validate', 'models/mnist.yaml', misspelt);
  assert.is(r.code, 1);
  assert.match(r.stdout, '101,770');
  assert.match(r.stderr, "did you mean 'units'");
});

test('--json gives machine-readable errors', async () => {
  const r = await tessera('validate', '--json', misspelt);
  assert.is(r.code, 1);
  const out = JSON.parse(r.stdout);
  assert.is(out.ok, false);
  const e = out.files[0].errors[0];
  assert.equal([e.file, e.line, e.column, e.code], [misspelt, unitsLine, 5, 'unknown-key']);
});

test('missing file: exit 1, one line, no stack trace', async () => {
  const r = await tessera('validate', join(dir, 'nope.yaml'));
  assert.is(r.code, 1);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, 'cannot read file: no such file');
  assert.not.match(r.stderr, /\n\s+at /);
});

test('usage errors exit 2 with a short usage on stderr', async () => {
  for (const args of [['frobnicate'], ['validate', '--frob', 'models/mnist.yaml'], ['validate'], [], ['--frob']]) {
    const r = await tessera(...args);
    assert.is(r.code, 2, `tessera ${args.join(' ')}`);
    assert.match(r.stderr, 'Usage: tessera');
    assert.is(r.stdout, '');
  }
});

test('help and version exit 0', async () => {
  for (const args of [['--help'], ['help'], ['-h']]) {
    const r = await tessera(...args);
    assert.is(r.code, 0);
    assert.match(r.stdout, /validate\s+check model files/);
  }
  for (const args of [['validate', '--help'], ['help', 'validate']]) {
    const r = await tessera(...args);
    assert.is(r.code, 0);
    assert.match(r.stdout, 'Usage: tessera validate');
  }
  const v = await tessera('--version');
  assert.is(v.code, 0);
  assert.match(v.stdout, /^tessera \d+\.\d+\.\d+/);
});

test.run();
