// Workgroup shapes and grids of the WGSL matmul kernels (the kernel headers
// state the same): what the dense ops dispatch, in the backend, the bench
// and the tests alike.

import type { Constants, OpRecordBase } from './types.js';

/**
 * The SEQ override of a dense op on a sequence ([T, K] per example: M =
 * ctx.rows · SEQ rows); absent for plain dense layers, so their pipelines
 * and a user's kernels (whose contract has no SEQ) are unchanged.
 */
export function seqConstant(seq: number | undefined): Constants {
  return seq !== undefined && seq > 1 ? { SEQ: seq } : {};
}

/** A user's dense kernel knows no SEQ: refuse one for a dense layer on a sequence. */
export function noSequence(op: OpRecordBase & { seq?: number }, constants: Constants): Constants {
  if ((op.seq ?? 1) > 1) throw new Error(`${op.layer}: a custom ${op.kind} kernel cannot run a dense layer on a sequence (its contract has M = ctx.rows)`);
  return constants;
}

/** Workgroup shape for the 4×4-per-invocation matmul kernels: x covers ceil(cols/4), x·y = 64. */
export function matmulWorkgroup(cols: number): { WG_X: number; WG_Y: number } {
  const groups = Math.ceil(cols / 4);
  let x = 1;
  while (x < 16 && x < groups) x *= 2;
  return { WG_X: x, WG_Y: 64 / x };
}

const c4 = (n: number) => Math.ceil(n / 4);

/** Constants and grid of a matmul kernel for X [M×K], W [K×N]. */
export function matmulDispatch(kernel: string, M: number, K: number, N: number): { constants: Constants; grid: [number, number] } {
  switch (kernel) {
    case 'dense_forward_tiled':
      return { constants: {}, grid: [Math.ceil(N / 64), Math.ceil(M / 32)] };
    case 'dense_forward': {
      const wg = matmulWorkgroup(N);
      return { constants: wg, grid: [Math.ceil(c4(N) / wg.WG_X), Math.ceil(c4(M) / wg.WG_Y)] };
    }
    case 'dense_forward_vec4': {
      const wg = matmulWorkgroup(N);
      return { constants: wg, grid: [Math.ceil(c4(N) / wg.WG_X), Math.ceil(Math.ceil(M / 8) / wg.WG_Y)] };
    }
    case 'dense_backward_weights': {
      const wg = matmulWorkgroup(N);
      return { constants: wg, grid: [Math.ceil(c4(N) / wg.WG_X), Math.ceil(c4(K) / wg.WG_Y)] };
    }
    case 'dense_backward_weights_vec4': {
      const wg = matmulWorkgroup(N / 2);
      return { constants: wg, grid: [Math.ceil(Math.ceil(N / 8) / wg.WG_X), Math.ceil(Math.ceil(K / 8) / wg.WG_Y)] };
    }
    case 'dense_backward_input': {
      const wg = matmulWorkgroup(K);
      return { constants: wg, grid: [Math.ceil(c4(K) / wg.WG_X), Math.ceil(c4(M) / wg.WG_Y)] };
    }
    case 'dense_backward_input_vec4': {
      const wg = matmulWorkgroup(K);
      return { constants: wg, grid: [Math.ceil(c4(K) / wg.WG_X), Math.ceil(Math.ceil(M / 8) / wg.WG_Y)] };
    }
    default:
      throw new Error(`${kernel} is not a matmul kernel`);
  }
}
