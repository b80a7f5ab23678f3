// Timing statistics for `tessera bench`: warm-up, then `repeats` timed
// repeats, each long enough (calibrated once) to drown the timer's
// resolution; the median with min–max is what gets reported.

export interface Stats {
  /** Seconds per call. */
  median: number;
  min: number;
  max: number;
  /** Timed repeats. */
  repeats: number;
  /** Calls per repeat. */
  callsPerRepeat: number;
}

export function summarize(secondsPerCall: number[], callsPerRepeat: number): Stats {
  const s = [...secondsPerCall].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, repeats: s.length, callsPerRepeat };
}

export interface TimingOptions {
  /** Timed repeats (default 5). */
  repeats?: number;
  /** Wall time each repeat aims for, in ms (default 25). */
  targetMs?: number;
}

/**
 * Times `run(calls)`, which performs `calls` back-to-back executions and
 * resolves when they are complete (for a GPU: encoded in one submit, then
 * waited for). One warm-up, a calibration that doubles `calls` until a
 * repeat lasts targetMs/4, then `repeats` repeats.
 */
export async function timeBatched(run: (calls: number) => Promise<void> | void, options: TimingOptions = {}): Promise<Stats> {
  const repeats = Math.max(1, options.repeats ?? 5);
  const target = options.targetMs ?? 25;
  await run(1); // warm-up: first-call compilation, page faults, pipeline creation
  let calls = 1;
  for (;;) {
    const t0 = performance.now();
    await run(calls);
    const dt = performance.now() - t0;
    if (dt >= target / 4 || calls >= 1 << 20) {
      calls = Math.max(1, Math.min(1 << 22, Math.round((calls * target) / Math.max(dt, 1e-3))));
      break;
    }
    calls *= 4;
  }
  const out: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await run(calls);
    out.push((performance.now() - t0) / 1000 / calls);
  }
  return summarize(out, calls);
}

/** Same as timeBatched for a synchronous function (no promise per call). */
export function timeSync(fn: () => void, options: TimingOptions = {}): Promise<Stats> {
  return timeBatched((calls) => {
    for (let i = 0; i < calls; i++) fn();
  }, options);
}
