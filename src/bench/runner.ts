// What a per-backend op runner provides to `tessera bench` and to the
// custom-kernel checks: a kernel set up for one op instance (src/bench/ops.ts)
// on its own buffers, that can be run once to check its outputs against the
// reference, then timed.

import type { KernelOutputs } from './check.js';
import type { OpCase, OpData } from './ops.js';
import type { Stats, TimingOptions } from './stats.js';

export { KernelRejectedError } from '../custom/errors.js';

export type BenchBackend = 'js' | 'wasm' | 'webgpu';
export const BENCH_BACKENDS: readonly BenchBackend[] = ['webgpu', 'wasm', 'js'];

export interface PreparedKernel {
  /** Run once on the inputs as prepared and return the outputs (call first, once). */
  check(): Promise<KernelOutputs>;
  /** Time repeated runs (after check). */
  time(options: TimingOptions): Promise<Stats>;
  dispose(): void;
  /**
   * True when the outputs are the reference's own (the js runner runs it):
   * comparing them with the reference would prove nothing, so they are not.
   */
  readonly isReference?: boolean;
}

export interface OpRunner {
  readonly backend: BenchBackend;
  /** One line: what runs and on what. */
  readonly description: string;
  /** Whether this runner has a kernel for the op (custom kernels may add some). */
  supports(c: OpCase): boolean;
  prepare(c: OpCase, data: OpData): Promise<PreparedKernel>;
  dispose(): void;
}
