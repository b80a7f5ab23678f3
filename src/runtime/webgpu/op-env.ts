// The GpuEnv in which an op's registered `webgpu.dispatches` (src/ops)
// builds its dispatches. The webgpu backend (over a graph's memory) and the
// bench's op runner (over one op's own buffers) both build it here, so an op
// is dispatched the same way in training, in `tessera bench` and in the
// custom-kernel checks: same pipelines, constants, grids and bindings.
// Browser-safe.

import type { Constants, GpuDispatch, GpuEnv, OpDef } from '../../ops/types.js';
import type { KernelSet } from './kernels.js';

/** A user's kernel for one op: builds its pipeline for one op instance on the op's contract layout. */
export interface CustomKernel {
  /** For messages and the backend's description, e.g. "./my_dense.wgsl". */
  label: string;
  /** `values`: the contract's override constants; the output it covers is rows × cols. */
  build(device: GPUDevice, layout: GPUBindGroupLayout, values: Constants, rows: number, cols: number): Promise<{ pipeline: GPUComputePipeline; grid: [number, number] }>;
}

/** What differs between callers: where buffers live, the context uniform, the mode and options. */
export interface OpEnvSources extends Pick<GpuEnv, 'B' | 'mode' | 'range' | 'scratch' | 'labels' | 'metrics' | 'keySlot' | 'optimizer' | 'prefer'> {
  /** Bindings over several buffers (GpuEnv.span); absent where buffers are separate (the bench). */
  span?: GpuEnv['span'];
  /** The dataset gather binds (GpuEnv.dataset); absent for every other op. */
  dataset?: GpuEnv['dataset'];
  /** The context uniform every kernel binds at 0 (dynamic offset). */
  ctx: GPUBuffer;
  /** The user's kernel replacing this op, if any. */
  custom?: CustomKernel | undefined;
}

/**
 * The env for one op. A user's kernel runs on the layout of the op's
 * contract kernel: the first kernel its webgpu spec lists, whose bindings
 * the contract's are (test/registry.test.ts checks that they agree).
 */
export function opEnv(kernels: KernelSet, def: OpDef, s: OpEnvSources): GpuEnv {
  const contractKernel = Object.keys(def.webgpu.kernels)[0]!;
  const user = s.custom;
  return {
    B: s.B,
    mode: s.mode,
    range: s.range,
    scratch: s.scratch,
    span: s.span ?? (() => null),
    dataset: s.dataset ?? (() => null),
    labels: s.labels,
    metrics: s.metrics,
    keySlot: s.keySlot,
    optimizer: s.optimizer,
    prefer: s.prefer,
    dispatch: async (kernel, detail, constants, buffers, [x, y]): Promise<GpuDispatch> => {
      const pipeline = await kernels.pipeline(kernel, constants);
      return { pipeline, group: kernels.bindGroup(kernel, detail, s.ctx, buffers), x, y, kernel };
    },
    custom: user
      ? async (detail, constants, buffers, rows, cols) => {
        const { pipeline, grid } = await user.build(kernels.device, kernels.layout(contractKernel), constants, rows, cols);
        return { pipeline, group: kernels.bindGroup(contractKernel, `${detail} custom ${user.label}`, s.ctx, buffers), x: grid[0], y: grid[1], kernel: contractKernel };
      }
      : null,
  };
}
