// Encoding repeated dispatch bodies: `records` repetitions of a body (one
// training step, or one evaluation batch), repetition i reading context
// record i at dynamic offset i·256, stepsPerSubmit repetitions per command
// buffer. The context records are written for a chunk at a time with one
// queue.writeBuffer. Browser-safe.

import type { GpuDispatch } from '../../ops/types.js';
import { withErrorScopes } from './errors.js';
import { CTX_STRIDE, writeCtx, type CtxRecord } from './kernels.js';
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
