// The test command (`npm test`): the type check, then every test/*.test.ts
// file in its own Node process (so a crash in one native driver cannot take
// the other suites with it), then one line `N passed, M failed`.
//
// Counts are uvu's own: the Total/Passed/Skipped summary it prints last in
// each file's output (a child process that a suite starts may print a
// summary of its own before it; colour codes are stripped, so FORCE_COLOR
// does not matter). The type check counts as one test. A file that exits
// non-zero without a summary (a crash, a top-level error) counts as one
// failure, and so does a file that runs longer than the per-suite timeout:
// it is killed with every process it started. Exit code 1 if anything failed.
//
//   node scripts/run-tests.mjs [filter]   # only test files whose name contains filter
//   TESSERA_TEST_TIMEOUT=<seconds>        # per-suite limit (default 900, 0 = none)
//   TESSERA_TEST_DIR=<dir>                # where the test files are (default test; the runner's own tests use fixtures)
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const filter = process.argv[2] ?? '';
const timeoutEnv = process.env.TESSERA_TEST_TIMEOUT ?? '900';
const timeoutS = Number(timeoutEnv);
if (!Number.isFinite(timeoutS) || timeoutS < 0) {
  console.error(`TESSERA_TEST_TIMEOUT must be a number of seconds (0 for no limit), got '${timeoutEnv}'`);
  process.exit(2);
}
// Slow suites last, so quick feedback comes first.
const slowLast = ['browser', 'accuracy'];
const testDir = process.env.TESSERA_TEST_DIR ?? 'test';
const files = readdirSync(join(root, testDir))
  .filter((f) => f.endsWith('.test.ts') && f.includes(filter))
  .sort((a, b) => slowLast.filter((s) => a.includes(s)).length - slowLast.filter((s) => b.includes(s)).length || a.localeCompare(b));

let passed = 0, failed = 0, skipped = 0;
const rows = [];

function record(name, p, f, s, seconds) {
  passed += p; failed += f; skipped += s;
  rows.push([name, p, f, s, seconds]);
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/** uvu's final summary in a file's output: the numbers after the last `Total:` line. */
function parseSummary(stdout) {
  const text = stdout.replace(ANSI, '');
  const at = text.lastIndexOf('Total:');
  if (at < 0) return null;
  const tail = text.slice(at);
  const num = (label) => Number(tail.match(new RegExp(`${label}:\\s+(\\d+)`))?.[1] ?? NaN);
  const summary = { total: num('Total'), passed: num('Passed'), skipped: num('Skipped') };
  return Object.values(summary).some(Number.isNaN) ? null : summary;
}

/** The running suite's process group, killed if this runner is interrupted. */
let current = null;
const killGroup = (child) => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ } };
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (current) killGroup(current);
    process.exit(130);
  });
}

/** Run one test file: its output is shown as it comes; resolves with the output, exit status and whether it timed out. */
function runSuite(file) {
  return new Promise((resolve) => {
    // Its own process group (detached), so a timeout also kills what it started (a child Node, Chromium).
    const child = spawn(process.execPath, ['--import', 'tsx', join(testDir, file)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    current = child;
    let stdout = '', timedOut = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => { stdout += d; process.stdout.write(d); });
    child.stderr.on('data', (d) => process.stderr.write(d));
    const timer = timeoutS > 0 ? setTimeout(() => { timedOut = true; killGroup(child); }, timeoutS * 1000) : null;
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      current = null;
      // A timed-out suite's stragglers (its own children) go too.
      if (timedOut) killGroup(child);
      resolve({ stdout, status: code, signal, timedOut });
    });
  });
}

if (!filter) {
  const t0 = Date.now();
  console.log('\n== typecheck (tsc --noEmit)');
  const tsc = spawnSync(join(root, 'node_modules/.bin/tsc'), ['--noEmit', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  record('typecheck', tsc.status === 0 ? 1 : 0, tsc.status === 0 ? 0 : 1, 0, (Date.now() - t0) / 1000);
}

for (const file of files) {
  const t0 = Date.now();
  console.log(`\n== ${file}`);
  const res = await runSuite(file);
  const seconds = (Date.now() - t0) / 1000;
  const summary = parseSummary(res.stdout);
  if (res.timedOut) {
    console.log(`!! ${file} timed out after ${timeoutS} s and was killed (TESSERA_TEST_TIMEOUT=${timeoutS}); counted as failed`);
    record(file, 0, 1, 0, seconds);
  } else if (!summary) {
    console.log(`!! ${file} ended without a test summary (exit ${res.status ?? res.signal})`);
    record(file, 0, 1, 0, seconds);
  } else {
    const { total, passed: ok, skipped: skip } = summary;
    const bad = total - ok + (res.status !== 0 && total === ok ? 1 : 0);
    if (res.status !== 0 && total === ok) console.log(`!! ${file} exited with ${res.status ?? res.signal} although all its tests passed; counted as one failure`);
    record(file, ok, bad, skip, seconds);
  }
}

const w = Math.max(...rows.map((r) => r[0].length));
console.log('\nsuite'.padEnd(w + 1) + '  passed  failed  skipped     time');
for (const [name, p, f, s, t] of rows) {
  console.log(`${name.padEnd(w)}  ${String(p).padStart(6)}  ${String(f).padStart(6)}  ${String(s).padStart(7)}  ${t.toFixed(1).padStart(6)} s`);
}
if (skipped) console.log(`\n${skipped} skipped`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
