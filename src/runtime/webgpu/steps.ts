// Encoding repeated dispatch bodies: `records` repetitions of a body (one
// training step, or one evaluation batch), repetition i reading context
// record i at dynamic offset i·256, stepsPerSubmit repetitions per command
// buffer. The context records are written for a chunk at a time with one
// queue.writeBuffer; the dropout keys each record carries. Browser-safe.

import type { GpuDispatch } from '../../ops/types.js';
import { withErrorScopes } from './errors.js';
import { rngKey } from '../rng.js';
import { CTX_STRIDE, MAX_DROPOUT_KEYS, writeCtx, type CtxRecord } from './kernels.js';
import { CTX_RECORDS } from './memory.js';

export class StepEncoder {
  private staging = new ArrayBuffer(CTX_RECORDS * CTX_STRIDE);

  constructor(readonly device: GPUDevice, readonly ctx: GPUBuffer, readonly stepsPerSubmit: number) {}

  /**
   * Runs `body` `count` times; `record(i)` gives repetition i's context.
   * Encoded inside error scopes; the caller waits for the queue.
   */
  async run(body: GpuDispatch[], count: number, record: (i: number) => CtxRecord, what: string): Promise<void> {
    await withErrorScopes(this.device, what, () => {
      const view = new DataView(this.staging);
      for (let c0 = 0; c0 < count; c0 += CTX_RECORDS) {
        const n = Math.min(CTX_RECORDS, count - c0);
        for (let i = 0; i < n; i++) writeCtx(view, i, record(c0 + i));
        this.device.queue.writeBuffer(this.ctx, 0, this.staging, 0, n * CTX_STRIDE);
        this.encode(body, n);
      }
    });
  }

  private encode(body: GpuDispatch[], records: number): void {
    for (let s0 = 0; s0 < records; s0 += this.stepsPerSubmit) {
      const n = Math.min(this.stepsPerSubmit, records - s0);
      const enc = this.device.createCommandEncoder({ label: 'tessera steps' });
      const pass = enc.beginComputePass({ label: 'tessera steps' });
      const dyn = [0];
      for (let s = s0; s < s0 + n; s++) {
        dyn[0] = s * CTX_STRIDE;
        for (const op of body) {
          pass.setPipeline(op.pipeline);
          pass.setBindGroup(0, op.group, dyn);
          pass.dispatchWorkgroups(op.x, op.y);
        }
      }
      pass.end();
      this.device.queue.submit([enc.finish()]);
    }
  }
}

/**
 * Dropout streams → slots of the context record's key array, assigned as
 * ops ask for them (GpuEnv.keySlot), and each step's keys rngKey(seed,
 * stream, step) written into those slots.
 */
export class KeySlots {
  private slots = new Map<number, number>();
  private keys = new Uint32Array(MAX_DROPOUT_KEYS);

  slot(stream: number): number {
    let slot = this.slots.get(stream);
    if (slot === undefined) {
      if (this.slots.size >= MAX_DROPOUT_KEYS) throw new Error(`webgpu: at most ${MAX_DROPOUT_KEYS} dropout layers are supported`);
      slot = this.slots.size;
      this.slots.set(stream, slot);
    }
    return slot;
  }

  /** The keys of every stream at global step `step` (reused array: valid until the next call). */
  at(seed: number, step: number): Uint32Array {
    for (const [stream, slot] of this.slots) this.keys[slot] = rngKey(seed, stream, step);
    return this.keys;
  }

  clear(): void {
    this.slots.clear();
  }
}
