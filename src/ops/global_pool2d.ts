// global_average_pool2d, global_max_pool2d and their backward ops:
// x [B, hw, C] (hw = H·W, channels_last) ↔ y [B, C]. References in
// pool-reference.ts.
//   wasm    kernels/as/pool.ts, SIMD over channels
//   webgpu  forward: one invocation per (row, channel), scanning hw;
//           average backward: one per input element; max backward: one per
//           (row, channel), which finds the first maximum and writes that
//           channel's whole column of dx (disjoint columns: race-free)
// Bench dims: [B, HW, C].

import {
  distinctPerPlane, globalAveragePool2d, globalAveragePool2dBackward, globalMaxPool2d, globalMaxPool2dBackward,
  type GlobalAveragePool2dBackwardOp, type GlobalAveragePool2dOp, type GlobalMaxPool2dBackwardOp, type GlobalMaxPool2dOp,
} from './pool-reference.js';
import { defineOp, grid1d, NO_OPTIMIZER, type BenchSpec, type CustomContract, type OpDef, type OpInstance, type OpRecordBase, type RandomFloats } from './types.js';

export type { GlobalAveragePool2dBackwardOp, GlobalAveragePool2dOp, GlobalMaxPool2dBackwardOp, GlobalMaxPool2dOp } from './pool-reference.js';

type Global = OpRecordBase & { hw: number; channels: number };

/** Odd hw and C first (the webgpu suite takes three), hw 1, the MNIST convnet's 11×11×64 and 5×5×64 maps, batch 1. */
const CASES: readonly (readonly number[])[] = [[3, 9, 5], [2, 121, 64], [1, 1, 3], [4, 25, 64], [1, 7, 1], [5, 49, 6]];

function benchOf<T extends Global>(
  flopsPer: number, bytesPer: { input: number; output: number },
  instance: (B: number, hw: number, C: number, random: RandomFloats) => Pick<OpInstance<T>, 'op' | 'inputs' | 'outputs'>,
): BenchSpec<T> {
  return {
    shape: 'B,HW,C',
    dims: (op, B) => [B, op.hw, op.channels],
    fromMKN: ([M, K, N]) => [M, K, N],
    work: ([B, hw, C]) => ({ flops: flopsPer * B! * hw! * C!, bytes: 4 * B! * C! * (bytesPer.input * hw! + bytesPer.output), unit: 'GB/s' }),
    instance: ([B, hw, C], random) => ({ ...instance(B!, hw!, C!, random), rows: B!, step: 0, seed: 1, optimizer: NO_OPTIMIZER }),
    cases: CASES,
  };
}

function contractOf(io: string[], output: 'in' | 'out', computes: string): CustomContract {
  return {
    bindings: io.map((name, i) => ({ name, access: i === io.length - 1 ? 'rw' : 'read' })),
    overrides: ['HW', 'CHANNELS'],
    output: ([B, hw, C]) => [B!, output === 'in' ? hw! * C! : C!],
    outputNames: ['B', output === 'in' ? 'HW·CHANNELS' : 'CHANNELS'],
    computes: `${computes}; x and dx are [B×HW×CHANNELS] (NHWC, HW = H·W), y and dy [B×CHANNELS]; B = ctx.rows`,
  };
}

/** x → y over (row, channel) pairs. */
function forwardDef<T extends GlobalAveragePool2dOp | GlobalMaxPool2dOp>(
  kind: T['kind'], code: number, fn: string, summary: string, computes: string,
  reference: (X: Float32Array, Y: Float32Array, B: number, hw: number, C: number) => void,
): OpDef<T> {
  return defineOp<T>({
    kind,
    summary,
    buffers: (op) => ({ reads: [op.x], writes: [op.y] }),
    reference: (op, e) => reference(e.buf(op.x), e.buf(op.y), e.rows, op.hw, op.channels),
    wasm: {
      code, fn, module: './pool',
      fields: [['x', 'ptr'], ['y', 'ptr'], ['hw', 'i32'], ['channels', 'i32']],
      params: [['x', 'usize'], ['y', 'usize'], ['B', 'i32'], ['hw', 'i32'], ['C', 'i32']],
      args: '{x}, {y}, rows, {hw}, {channels}',
      encode: (op, L) => [L.ptr(op.x), L.ptr(op.y), op.hw, op.channels],
    },
    webgpu: {
      kernels: { [kind]: ['read', 'rw'] },
      async dispatches(op, env) {
        const io = [env.range(op.x), env.range(op.y)];
        const c = { HW: op.hw, CHANNELS: op.channels };
        if (env.custom) return [await env.custom(op.layer, c, io, env.B, op.channels)];
        return [await env.dispatch(kind, op.layer, c, io, grid1d(env.B * op.channels))];
      },
    },
    bench: benchOf<T>(1, { input: 1, output: 1 }, (B, hw, C, random) => ({
      op: { kind, layer: 'bench', x: 'x', y: 'y', hw, channels: C } as T,
      inputs: { x: distinctPerPlane(random(B * hw * C), B, hw, C, 2) }, outputs: { y: B * C },
    })),
    custom: contractOf(['x', 'y'], 'out', computes),
  });
}

export const globalAveragePool2dOp: OpDef<GlobalAveragePool2dOp> = {
  ...forwardDef<GlobalAveragePool2dOp>('global_average_pool2d', 64, 'globalAveragePool2d', 'y[B, C] = mean over the H·W positions (NHWC)',
    'y[b, c] = Σ_p x[b, p, c] / HW', globalAveragePool2d),
  gradient: {
    wrt: (op) => [op.x],
    backward: (op, grad) => ({
      ops: [{ kind: 'global_average_pool2d_backward', layer: op.layer, dy: grad(op.y), dx: grad(op.x), hw: op.hw, channels: op.channels } as GlobalAveragePool2dBackwardOp],
    }),
  },
};

export const globalMaxPool2dOp: OpDef<GlobalMaxPool2dOp> = {
  ...forwardDef<GlobalMaxPool2dOp>('global_max_pool2d', 66, 'globalMaxPool2d', 'y[B, C] = max over the H·W positions (NHWC)',
    'y[b, c] = max_p x[b, p, c]', globalMaxPool2d),
  gradient: {
    wrt: (op) => [op.x],
    backward: (op, grad) => ({
      ops: [{ kind: 'global_max_pool2d_backward', layer: op.layer, dy: grad(op.y), x: op.x, dx: grad(op.x), hw: op.hw, channels: op.channels } as GlobalMaxPool2dBackwardOp],
    }),
  },
};

export const globalAveragePool2dBackwardOp = defineOp<GlobalAveragePool2dBackwardOp>({
  kind: 'global_average_pool2d_backward',
  summary: 'dx[B, H·W, C] = dy[B, C] / (H·W) at every position',
  buffers: (op) => ({ reads: [op.dy], writes: [op.dx] }),
  reference: (op, e) => globalAveragePool2dBackward(e.buf(op.dy), e.buf(op.dx), e.rows, op.hw, op.channels),
  wasm: {
    code: 65, fn: 'globalAveragePool2dBackward', module: './pool',
    fields: [['dy', 'ptr'], ['dx', 'ptr'], ['hw', 'i32'], ['channels', 'i32']],
    params: [['dy', 'usize'], ['dx', 'usize'], ['B', 'i32'], ['hw', 'i32'], ['C', 'i32']],
    args: '{dy}, {dx}, rows, {hw}, {channels}',
    encode: (op, L) => [L.ptr(op.dy), L.ptr(op.dx), op.hw, op.channels],
  },
  webgpu: {
    kernels: { global_average_pool2d_backward: ['read', 'rw'] },
    async dispatches(op, env) {
      const io = [env.range(op.dy), env.range(op.dx)];
      const c = { HW: op.hw, CHANNELS: op.channels };
      if (env.custom) return [await env.custom(op.layer, c, io, env.B, op.hw * op.channels)];
      return [await env.dispatch('global_average_pool2d_backward', op.layer, c, io, grid1d(env.B * op.hw * op.channels))];
    },
  },
  bench: benchOf<GlobalAveragePool2dBackwardOp>(1, { input: 1, output: 1 }, (B, hw, C, random) => ({
    op: { kind: 'global_average_pool2d_backward', layer: 'bench', dy: 'dy', dx: 'dx', hw, channels: C },
    inputs: { dy: random(B * C) }, outputs: { dx: B * hw * C },
  })),
  custom: contractOf(['dy', 'dx'], 'in', 'dx[b, p, c] = dy[b, c] / HW'),
});

export const globalMaxPool2dBackwardOp = defineOp<GlobalMaxPool2dBackwardOp>({
  kind: 'global_max_pool2d_backward',
  summary: 'dx = dy at the first maximum over the H·W positions of each channel, 0 elsewhere',
  buffers: (op) => ({ reads: [op.dy, op.x], writes: [op.dx] }),
  reference: (op, e) => globalMaxPool2dBackward(e.buf(op.dy), e.buf(op.x), e.buf(op.dx), e.rows, op.hw, op.channels),
  wasm: {
    code: 67, fn: 'globalMaxPool2dBackward', module: './pool',
    fields: [['dy', 'ptr'], ['x', 'ptr'], ['dx', 'ptr'], ['hw', 'i32'], ['channels', 'i32']],
    params: [['dy', 'usize'], ['x', 'usize'], ['dx', 'usize'], ['B', 'i32'], ['hw', 'i32'], ['C', 'i32']],
    args: '{dy}, {x}, {dx}, rows, {hw}, {channels}',
    encode: (op, L) => [L.ptr(op.dy), L.ptr(op.x), L.ptr(op.dx), op.hw, op.channels],
  },
  webgpu: {
    kernels: { global_max_pool2d_backward: ['read', 'read', 'rw'] },
    async dispatches(op, env) {
      const io = [env.range(op.dy), env.range(op.x), env.range(op.dx)];
      const c = { HW: op.hw, CHANNELS: op.channels };
      if (env.custom) return [await env.custom(op.layer, c, io, env.B, op.hw * op.channels)];
      // One invocation per (row, channel): it owns that channel's column of dx.
      return [await env.dispatch('global_max_pool2d_backward', op.layer, c, io, grid1d(env.B * op.channels))];
    },
  },
  // x on a coarse grid (integers in −2…2), so ties are common and each backend's tie-breaking is compared.
  bench: benchOf<GlobalMaxPool2dBackwardOp>(1, { input: 2, output: 1 }, (B, hw, C, random) => ({
    op: { kind: 'global_max_pool2d_backward', layer: 'bench', dy: 'dy', x: 'x', dx: 'dx', hw, channels: C },
    inputs: { dy: random(B * C), x: random(B * hw * C, 2.5).map(Math.round) }, outputs: { dx: B * hw * C },
  })),
  custom: contractOf(['dy', 'x', 'dx'], 'in', 'dx[b, p, c] = dy[b, c] at the first p (in order) where x[b, p, c] is the maximum over p, else 0'),
});

export const GLOBAL_POOL2D_OPS = [globalAveragePool2dOp, globalAveragePool2dBackwardOp, globalMaxPool2dOp, globalMaxPool2dBackwardOp] as const;
