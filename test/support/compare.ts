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

/** The spacing of f32 values at x (one unit in the last place). */
export function ulp32(x: number): number {
  const a = Math.abs(x);
  return a < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(a)) - 23);
}

/**
 * Error of an update applied in place (an optimiser step), relative to the
 * update rather than to the values it was applied to:
 *   max_i (|got_i − want_i| − ulp32(want_i)) / max_i |want_i − before_i|
 * Storing the result in f32 alone may cost one ulp of the value, which is
 * forgiven; the rest is the update's own error. Relative to the parameter,
 * a step that is a few percent wrong would hide below 1e-5 (the step is
 * ~1e-3 of the parameter); relative to the step it shows as a few 1e-2.
 */
export function updateErr(got: ArrayLike<number>, before: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.is(got.length, want.length, 'lengths');
  assert.is(before.length, want.length, 'lengths');
  let d = 0, s = 0;
  for (let i = 0; i < want.length; i++) {
    if (!Number.isFinite(got[i])) return Infinity;
    d = Math.max(d, Math.abs(got[i] - want[i]) - ulp32(want[i]));
    s = Math.max(s, Math.abs(want[i] - before[i]));
  }
  assert.ok(s > 0, 'the update is all zero: comparing it would be vacuous');
  return Math.max(d, 0) / s;
}
