// scripts/run-tests.mjs (the `npm test` runner) on fixture suites
// (test/fixtures/runner), with colours forced:
// - counts come from uvu's last summary, not a summary printed before it,
//   and Skipped is read through the colour codes;
// - a suite whose before hook throws (test/support/setup.ts) fails every
//   test, with the error printed;
// - a suite that hangs is killed at the per-suite timeout, its own child
//   process too, and counts as one failure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const pidFile = join(mkdtempSync(join(tmpdir(), 'tessera-runner-')), 'child.pid');
const TIMEOUT_S = 8;
const t0 = Date.now();
const res = spawnSync(process.execPath, ['scripts/run-tests.mjs', '.test.ts'], {
  encoding: 'utf8',
  env: { ...process.env, TESSERA_TEST_DIR: 'test/fixtures/runner', TESSERA_TEST_TIMEOUT: String(TIMEOUT_S), FORCE_COLOR: '1', NO_COLOR: undefined, RUNNER_FIXTURE_PID_FILE: pidFile },
  timeout: 120_000,
});
const seconds = (Date.now() - t0) / 1000;
const out = res.stdout;
const row = (suite: string) => {
  const m = out.match(new RegExp(`^${suite}\\.test\\.ts\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s`, 'm'));
  assert.ok(m, `a summary row for ${suite}:\n${out}`);
  return m!.slice(1).map(Number);
};

test('the last summary counts, and Skipped is read with colours forced', () => {
  assert.equal(row('summary'), [2, 0, 1]);
});

test('a before hook that throws fails every test of its suite, with the error printed', () => {
  assert.equal(row('setup'), [0, 2, 0]);
  assert.match(res.stderr, /the fixture setup FAILED \(a before hook\)/);
  assert.match(res.stderr, /Error: the fixture setup broke on purpose\n\s+at /);
  assert.match(out, /the fixture setup failed: the fixture setup broke on purpose/);
});

test('a hung suite is killed at the timeout with its child, and counts as failed', async () => {
  assert.equal(row('hang'), [0, 1, 0]);
  assert.match(out, new RegExp(`hang\\.test\\.ts timed out after ${TIMEOUT_S} s and was killed`));
  assert.ok(seconds < TIMEOUT_S + 60, `the runner took ${seconds} s`);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
  // SIGKILL is immediate, but the killed child may take a moment to be reaped.
  for (let i = 0; i < 50 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
  assert.not.ok(alive(), `the hung suite's child ${pid} is still running`);
});

test('the last line counts everything, and the exit code says it failed', () => {
  assert.match(out, /\n2 passed, 3 failed\n$/);
  assert.is(res.status, 1);
});

test.run();
