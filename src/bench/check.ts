// Checking a kernel's outputs against the reference.
//
// The error of an output a against the reference b is relative to the
// output's scale (a per-element relative error blows up where b is near 0):
//   err(a, b) = max_i |a_i − b_i| / max_i |b_i|
// A kernel passes when every output's error is at most `tolerance` (default
// 1e-4: float summation order alone stays near 1e-6 at these sizes). The
// first mismatching index is the first i with |a_i − b_i| > tolerance ·
// max|b| (or a NaN/Infinity where the reference has a number).

import type { OpData } from './ops.js';

export const DEFAULT_TOLERANCE = 1e-4;

export interface CheckResult {
  ok: boolean;
  /** Largest error over the outputs (Infinity for NaN or a missing output). */
  maxRelErr: number;
  /** Where it first went wrong: output name and index, with the two values. */
  mismatch?: { output: string; index: number; got: number; want: number };
  /** One line for people when !ok. */
  message?: string;
}

export interface KernelOutputs {
  arrays: Record<string, Float32Array>;
  scalars?: Record<string, number>;
}

export function compareOutputs(got: KernelOutputs, data: Pick<OpData, 'expected' | 'scalars' | 'tolerance'>, tolerance = data.tolerance ?? DEFAULT_TOLERANCE): CheckResult {
  let maxRelErr = 0;
  let mismatch: CheckResult['mismatch'];
  for (const [name, want] of Object.entries(data.expected)) {
    const a = got.arrays[name];
    if (!a || a.length < want.length) {
      return { ok: false, maxRelErr: Infinity, message: `output ${name}: expected ${want.length} values, got ${a?.length ?? 0}` };
    }
    let scale = 0;
    for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
    scale = Math.max(scale, 1e-30);
    let diff = 0;
    for (let i = 0; i < want.length; i++) {
      const ai = a[i]!, bi = want[i]!;
      const d = Number.isFinite(ai) ? Math.abs(ai - bi) : Infinity;
      if (d > diff) diff = d;
      if (!mismatch && d > tolerance * scale) mismatch = { output: name, index: i, got: ai, want: bi };
    }
    maxRelErr = Math.max(maxRelErr, diff / scale);
  }
  for (const [name, want] of Object.entries(data.scalars ?? {})) {
    const a = got.scalars?.[name];
    const err = a === undefined || !Number.isFinite(a) ? Infinity : Math.abs(a - want) / Math.max(Math.abs(want), 1);
    maxRelErr = Math.max(maxRelErr, err);
    if (!mismatch && err > tolerance) mismatch = { output: name, index: 0, got: a ?? NaN, want };
  }
  const ok = !mismatch && maxRelErr <= tolerance;
  if (ok) return { ok, maxRelErr };
  const m = mismatch!;
  const where = data.scalars && m.output in data.scalars ? m.output : `${m.output}[${m.index}]`;
  return {
    ok, maxRelErr, mismatch,
    message: `max relative error ${fmtErr(maxRelErr)} (tolerance ${fmtErr(tolerance)}); first mismatch at ${where}: got ${m.got}, expected ${m.want}`,
  };
}

export function fmtErr(e: number): string {
  if (!Number.isFinite(e)) return String(e);
  if (e === 0) return '0';
  return e.toExponential(1);
}
