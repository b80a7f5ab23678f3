// What a per-backend op runner provides to `tessera bench`: a kernel set up
// for one op at one shape on fresh inputs, that can be run once to check its
// outputs against the reference, then timed.

import type { KernelOutputs } from './check.js';
import type { OpCase, OpData } from './ops.js';
import type { Stats, TimingOptions } from './stats.js';

export type BenchBackend = 'js' | 'wasm' | 'webgpu';
export const BENCH_BACKENDS: readonly BenchBackend[] = ['webgpu', 'wasm', 'js'];

export interface PreparedKernel {
  /** Run once on the inputs as prepared and return the outputs (call first, once). */
  check(): Promise<KernelOutputs>;
  /** Time repeated runs (after check). */
  time(options: TimingOptions): Promise<Stats>;
  dispose(): void;
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

/** A custom kernel that failed before it could run (compile error, wrong bindings…): reported, never thrown past bench. */
export class KernelRejectedError extends Error {
  readonly isUserError = true;
  constructor(readonly kernel: string, message: string) {
    super(message);
    this.name = 'KernelRejectedError';
  }
}
