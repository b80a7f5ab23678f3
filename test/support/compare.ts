// Shared by the kernel and backend suites: how "close to the reference" is
// measured everywhere, so one tolerance means the same thing in every test.

import * as assert from 'uvu/assert';

/**
 * Max-norm relative error: max_i |a_i - b_i| / max(max_i |b_i|, 1e-30).
 * Scaled by the largest reference value rather than per element, so a sum
 * that cancels to near zero does not turn rounding noise into a failure.
 * A NaN on one side only is an infinite error.
 */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.is(a.length, b.length, 'lengths');
  let d = 0, s = 0;
  for (let i = 0; i < b.length; i++) {
    if (Number.isNaN(a[i]) !== Number.isNaN(b[i])) return Infinity;
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / Math.max(s, 1e-30);
}
