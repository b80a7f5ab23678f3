// The webgpu backend's options. Browser-safe.

import type { CustomKernel } from './op-env.js';

export interface WebGpuBackendOptions {
  /** Use this adapter instead of requesting one from `gpu`. */
  adapter?: GPUAdapter;
  /** Feature level to request the adapter with, or that `adapter` was requested with (default 'compatibility'; every kernel stays within its limits). */
  featureLevel?: 'core' | 'compatibility';
  powerPreference?: GPUPowerPreference;
  /** Words for the description, e.g. "Dawn, OpenGL ES backend" (the Node acquirer passes it). */
  backendLabel?: string;
  /** Training steps encoded per command buffer / submit (default 32). */
  stepsPerSubmit?: number;
  /** Which dense_forward kernel: 'register' (default: 4×4 outputs per invocation, barrier-free) or 'tiled' (workgroup-memory tiles; slower on llvmpipe). */
  denseForward?: 'register' | 'tiled';
  /** Which conv2d kernels: 'blocked' (default: register-blocked implicit GEMM, 32 pixels × 8 channels per invocation, where the channel counts allow; max-pool backward 4 channels per invocation) or 'direct' (one pixel × 4 channels per invocation, max-pool backward one element; slower on llvmpipe). */
  convKernels?: 'blocked' | 'direct';
  /** Longest wait for the GPU before giving up with an error (default 600 000 ms). */
  watchdogMs?: number;
  /**
   * The most bytes one dataset shard's buffer holds (default: the device's
   * maxStorageBufferBindingSize and maxBufferSize). Sets larger than that
   * are split into shards of whole examples; a smaller value forces small
   * shards (tests, TESSERA_WEBGPU_SHARD_BYTES in Node).
   */
  shardBytes?: number;
  /** Users' kernels replacing the built-in kernel of an op, by op kind (made from .wgsl files by src/custom/wgsl.ts). */
  customKernels?: Partial<Record<string, CustomKernel>>;
}

/** Ops whose kernel a user's WGSL may replace: every registered op with a contract (docs/kernels.md). */
export type CustomKernelOp = string;
