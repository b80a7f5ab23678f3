// uvu swallows an error thrown in a `before` hook: its runner returns from a
// `finally`, so the suite's tests are reported as not passed with no reason
// given, and the process even exits 0. `beforeOrFail` registers the setup
// as a before hook that catches the error, prints it with its stack, and
// makes every test of the suite fail with it (a before.each guard), so a
// broken setup (a bundle that does not build, a browser that does not
// launch, a device that cannot be made) is a loud failure with its reason.

import type { Test } from 'uvu';

const banner = '!'.repeat(78);
const describe = (e: unknown) => (e instanceof Error ? e.stack ?? e.message : String(e));

export function beforeOrFail(test: Test, what: string, setup: () => unknown): void {
  let failure: { error: unknown } | null = null;
  test.before(async () => {
    try {
      await setup();
    } catch (error) {
      failure = { error };
      process.exitCode = 1;
      console.error(`\n${banner}\n!! ${what} FAILED (a before hook); every test of this suite fails with it:\n${describe(error)}\n${banner}\n`);
    }
  });
  test.before.each(() => {
    if (!failure) return;
    const message = failure.error instanceof Error ? failure.error.message : String(failure.error);
    const first = message.split('\n')[0];
    throw new Error(`${what} failed: ${first}${first === message ? '' : ' … (the whole error is printed above)'}`);
  });
}
