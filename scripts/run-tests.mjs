// The test command (`npm test`): the type check, then every test/*.test.ts
// file in its own Node process (so a crash in one native driver cannot take
// the other suites with it), then one line `N passed, M failed`.
//
// Counts are uvu's own (its Total/Passed/Skipped summary per file); the type
// check counts as one test. A file that exits non-zero without a summary
// (a crash, a top-level error) counts as one failure. Exit code 1 if
// anything failed.
//
//   node scripts/run-tests.mjs [filter]   # only test files whose name contains filter
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const filter = process.argv[2] ?? '';
// Slow suites last, so quick feedback comes first.
const slowLast = ['browser', 'accuracy'];
const files = readdirSync(join(root, 'test'))
  .filter((f) => f.endsWith('.test.ts') && f.includes(filter))
  .sort((a, b) => slowLast.filter((s) => a.includes(s)).length - slowLast.filter((s) => b.includes(s)).length || a.localeCompare(b));

let passed = 0, failed = 0, skipped = 0;
const rows = [];

function record(name, p, f, s, seconds) {
  passed += p; failed += f; skipped += s;
  rows.push([name, p, f, s, seconds]);
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
  const res = spawnSync(process.execPath, ['--import', 'tsx', join('test', file)], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  process.stdout.write(res.stdout ?? '');
  process.stderr.write(res.stderr ?? '');
  const num = (label) => Number((res.stdout ?? '').match(new RegExp(`${label}:\\s+(\\d+)`))?.[1] ?? NaN);
  const total = num('Total'), ok = num('Passed'), skip = num('Skipped');
  const seconds = (Date.now() - t0) / 1000;
  if (Number.isNaN(total)) {
    console.log(`!! ${file} ended without a test summary (exit ${res.status ?? res.signal})`);
    record(file, 0, 1, 0, seconds);
  } else {
    const bad = total - ok + (res.status !== 0 && total === ok ? 1 : 0);
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
