// max_pool2d, average_pool2d and their backward ops (windowed pooling,
// channels_last): the records, references and geometry are in
// pool-reference.ts; this file declares how each backend runs them.
//   wasm    one record: pointers, the geometry packed two 16-bit values a
//           word (pack16), channels; kernels/as/pool.ts, SIMD over channels
//   webgpu  one invocation per output element (forward) or per input
//           element (backward: it scans the windows that contain it, so no
//           two invocations write one dx: race-free without atomics)
// Bench dims: [B, H, W, C, kH, kW, strideH, strideW, same] (same: 1 for
// TensorFlow "same" padding, 0 for "valid"; H, W the input size).

import { pack16, window2d } from './conv-geometry.js';
import {
  averagePool2d, averagePool2dBackward, checkPoolGeometry, distinctPerPlane, maxPool2d, maxPool2dBackward, poolGeometry,
  type AveragePool2dBackwardOp, type AveragePool2dOp, type MaxPool2dBackwardOp, type MaxPool2dOp, type PoolGeometry,
} from './pool-reference.js';
import { defineOp, grid1d, NO_OPTIMIZER, type BenchSpec, type Constants, type CustomContract, type OpDef, type OpRecordBase, type RandomFloats, type WasmFieldType, type WasmLayout } from './types.js';

export type { AveragePool2dBackwardOp, AveragePool2dOp, MaxPool2dBackwardOp, MaxPool2dOp, PoolGeometry } from './pool-reference.js';

// ---------------------------------------------------------------- wasm record: the geometry in 6 words

const GEOMETRY_FIELDS: readonly (readonly [string, WasmFieldType])[] = [
  ['inHW', 'i32'], ['outHW', 'i32'], ['kHW', 'i32'], ['strideHW', 'i32'], ['padTL', 'i32'], ['channels', 'i32'],
];
const GEOMETRY_PARAMS = [
  ['inH', 'i32'], ['inW', 'i32'], ['outH', 'i32'], ['outW', 'i32'], ['kH', 'i32'], ['kW', 'i32'],
  ['strideH', 'i32'], ['strideW', 'i32'], ['padTop', 'i32'], ['padLeft', 'i32'], ['C', 'i32'],
] as const;
const unpack = (f: string) => `<i32>(<u32>{${f}} >> 16), {${f}} & 0xffff`;
const GEOMETRY_ARGS = `${['inHW', 'outHW', 'kHW', 'strideHW', 'padTL'].map(unpack).join(', ')}, {channels}`;

function encodeGeometry(g: PoolGeometry, kind: string): number[] {
  checkPoolGeometry(g, kind);
  const pairs: [number, number][] = [[g.inH, g.inW], [g.outH, g.outW], [g.kH, g.kW], [g.strideH, g.strideW], [g.padTop, g.padLeft]];
  for (const [a, b] of pairs) if (!(a >= 0 && a <= 0xffff && b >= 0 && b <= 0xffff)) throw new Error(`${kind}: geometry ${a}×${b} does not fit the record's 16-bit fields`);
  return [...pairs.map(([a, b]) => pack16(a, b)), g.channels];
}

// ---------------------------------------------------------------- webgpu: override constants

const OVERRIDES = ['IN_H', 'IN_W', 'OUT_H', 'OUT_W', 'K_H', 'K_W', 'STRIDE_H', 'STRIDE_W', 'PAD_TOP', 'PAD_LEFT', 'CHANNELS'];

function constantsOf(g: PoolGeometry, kind: string): Constants {
  checkPoolGeometry(g, kind);
  return {
    IN_H: g.inH, IN_W: g.inW, OUT_H: g.outH, OUT_W: g.outW, K_H: g.kH, K_W: g.kW,
    STRIDE_H: g.strideH, STRIDE_W: g.strideW, PAD_TOP: g.padTop, PAD_LEFT: g.padLeft, CHANNELS: g.channels,
  };
}

const inSize = (g: PoolGeometry) => g.inH * g.inW * g.channels;
const outSize = (g: PoolGeometry) => g.outH * g.outW * g.channels;

// ---------------------------------------------------------------- bench dims

const same = (g: PoolGeometry, p: 'same' | 'valid') => {
  const w = window2d(g.inH, g.inW, [g.kH, g.kW], [g.strideH, g.strideW], [1, 1], p);
  return w.outH === g.outH && w.outW === g.outW && w.padTop === g.padTop && w.padLeft === g.padLeft;
};

/** [B, H, W, C, kH, kW, sH, sW, same] of a record; its geometry must be TF's valid or same. */
function dimsOf(g: PoolGeometry, B: number): number[] {
  const isSame = !same(g, 'valid');
  if (isSame && !same(g, 'same')) throw new Error(`pool geometry ${JSON.stringify(g)} is neither TensorFlow "valid" nor "same"`);
  return [B, g.inH, g.inW, g.channels, g.kH, g.kW, g.strideH, g.strideW, isSame ? 1 : 0];
}

function geometryOf(dims: readonly number[]): PoolGeometry {
  const [, H, W, C, kH, kW, sH, sW, s] = dims as [number, number, number, number, number, number, number, number, number];
  return { ...window2d(H, W, [kH, kW], [sH, sW], [1, 1], s ? 'same' : 'valid'), channels: C };
}

/**
 * Awkward geometry first (the webgpu suite takes the first three): odd
 * sizes, odd "same" padding (the extra row/column bottom/right), pool 3
 * overlapping at stride 2 (C 8: max_pool2d_backward's vec4 kernel),
 * rectangular pools with stride ≠ pool, C not a multiple of 4; then the MNIST convnet's 26×26×32 and 11×11×64 with 2×2
 * pools, pool 1, pool 3 stride 3, stride > pool (inputs in no window),
 * 1×1×1, 5×5 pools, and every window padded.
 */
const CASES: readonly (readonly number[])[] = [
  [3, 8, 9, 8, 3, 3, 2, 2, 1],
  [2, 26, 26, 32, 2, 2, 2, 2, 0],
  [2, 6, 7, 3, 2, 3, 1, 2, 1],
  [1, 11, 11, 64, 2, 2, 2, 2, 0],
  [1, 5, 4, 4, 1, 1, 1, 1, 0],
  [2, 9, 10, 8, 3, 3, 3, 3, 0],
  [3, 10, 7, 6, 2, 2, 3, 3, 0],
  [1, 1, 1, 1, 1, 1, 1, 1, 1],
  [2, 8, 8, 7, 5, 5, 2, 2, 1],
  [2, 3, 3, 2, 3, 3, 1, 1, 1],
];

/** What every pooling op's bench shares; `bytesPer` counts floats moved per input and output element. */
function benchOf<T extends OpRecordBase & PoolGeometry>(
  flopsPerWindowElement: number, bytesPer: { input: number; output: number },
  instance: (g: PoolGeometry, B: number, random: RandomFloats) => Omit<ReturnType<BenchSpec<T>['instance']>, 'step' | 'seed' | 'optimizer'>,
): BenchSpec<T> {
  return {
    shape: 'B,H,W,C,kH,kW,sH,sW,same',
    dims: (op, B) => dimsOf(op, B),
    // --shape M,K,N: M rows of K×K×N, 2×2 windows at stride 1 with "same" padding (overlapping, odd padding).
    fromMKN: ([M, K, N]) => [M, K, K, N, 2, 2, 1, 1, 1],
    work: (dims) => {
      const g = geometryOf(dims), B = dims[0]!;
      return { flops: flopsPerWindowElement * B * outSize(g) * g.kH * g.kW, bytes: 4 * B * (bytesPer.input * inSize(g) + bytesPer.output * outSize(g)), unit: 'GB/s' };
    },
    instance: (dims, random) => ({ ...instance(geometryOf(dims), dims[0]!, random), step: 0, seed: 1, optimizer: NO_OPTIMIZER }),
    cases: CASES,
  };
}

function contractOf(io: string[], output: 'in' | 'out', computes: string): CustomContract {
  return {
    bindings: io.map((name, i) => ({ name, access: i === io.length - 1 ? 'rw' : 'read' })),
    overrides: OVERRIDES,
    output: (dims) => [dims[0]!, output === 'in' ? inSize(geometryOf(dims)) : outSize(geometryOf(dims))],
    outputNames: ['B', output === 'in' ? 'IN_H·IN_W·CHANNELS' : 'OUT_H·OUT_W·CHANNELS'],
    computes,
  };
}

const GEOMETRY_TEXT = 'windows of K_H×K_W at STRIDE_H×STRIDE_W from (−PAD_TOP, −PAD_LEFT), clipped to the IN_H×IN_W input; NHWC; B = ctx.rows';

/** A forward pool: x → y, one output element per invocation. */
function forwardDef<T extends (MaxPool2dOp | AveragePool2dOp)>(
  kind: T['kind'], code: number, fn: string, summary: string, computes: string,
  reference: (X: Float32Array, Y: Float32Array, B: number, g: PoolGeometry) => void,
): OpDef<T> {
  return defineOp<T>({
    kind,
    summary,
    buffers: (op) => ({ reads: [op.x], writes: [op.y] }),
    reference: (op, e) => { checkPoolGeometry(op, kind); reference(e.buf(op.x), e.buf(op.y), e.rows, op); },
    wasm: {
      code, fn, module: './pool',
      fields: [['x', 'ptr'], ['y', 'ptr'], ...GEOMETRY_FIELDS],
      params: [['x', 'usize'], ['y', 'usize'], ['B', 'i32'], ...GEOMETRY_PARAMS],
      args: `{x}, {y}, rows, ${GEOMETRY_ARGS}`,
      encode: (op, L: WasmLayout) => [L.ptr(op.x), L.ptr(op.y), ...encodeGeometry(op, kind)],
    },
    webgpu: {
      kernels: { [kind]: ['read', 'rw'] },
      async dispatches(op, env) {
        const io = [env.range(op.x), env.range(op.y)];
        const c = constantsOf(op, kind);
        if (env.custom) return [await env.custom(op.layer, c, io, env.B, outSize(op))];
        return [await env.dispatch(kind, op.layer, c, io, grid1d(env.B * outSize(op)))];
      },
    },
    bench: benchOf<T>(1, { input: 1, output: 1 }, (g, B, random) => ({
      op: { kind, layer: 'bench', x: 'x', y: 'y', ...g } as T,
      rows: B, inputs: { x: distinctPerPlane(random(B * inSize(g)), B, g.inH * g.inW, g.channels, 2) }, outputs: { y: B * outSize(g) },
    })),
    custom: contractOf(['x', 'y'], 'out', `${computes}; ${GEOMETRY_TEXT}`),
  });
}

export const maxPool2dOp: OpDef<MaxPool2dOp> = {
  ...forwardDef<MaxPool2dOp>('max_pool2d', 60, 'maxPool2d', 'y = max over each pool window (NHWC; "same" padding never the max)',
    'y[B×OUT_H×OUT_W×CHANNELS] = max of each window', maxPool2d),
  gradient: {
    wrt: (op) => [op.x],
    backward: (op, grad) => ({
      ops: [{ kind: 'max_pool2d_backward', layer: op.layer, dy: grad(op.y), x: op.x, dx: grad(op.x), ...poolGeometry(op) } as MaxPool2dBackwardOp],
    }),
  },
};

export const averagePool2dOp: OpDef<AveragePool2dOp> = {
  ...forwardDef<AveragePool2dOp>('average_pool2d', 62, 'averagePool2d', 'y = mean over each pool window (NHWC; "same" padding excluded from the count)',
    'y[B×OUT_H×OUT_W×CHANNELS] = sum of each window / the number of input elements in it', averagePool2d),
  gradient: {
    wrt: (op) => [op.x],
    backward: (op, grad) => ({
      ops: [{ kind: 'average_pool2d_backward', layer: op.layer, dy: grad(op.y), dx: grad(op.x), ...poolGeometry(op) } as AveragePool2dBackwardOp],
    }),
  },
};

export const maxPool2dBackwardOp = defineOp<MaxPool2dBackwardOp>({
  kind: 'max_pool2d_backward',
  summary: 'dx = dy routed to the first maximum of each window (TensorFlow\'s ties), recomputed from x',
  buffers: (op) => ({ reads: [op.dy, op.x], writes: [op.dx] }),
  reference: (op, e) => { checkPoolGeometry(op, op.kind); maxPool2dBackward(e.buf(op.dy), e.buf(op.x), e.buf(op.dx), e.rows, op); },
  wasm: {
    code: 61, fn: 'maxPool2dBackward', module: './pool',
    fields: [['dy', 'ptr'], ['x', 'ptr'], ['dx', 'ptr'], ...GEOMETRY_FIELDS],
    params: [['dy', 'usize'], ['x', 'usize'], ['dx', 'usize'], ['B', 'i32'], ...GEOMETRY_PARAMS],
    args: `{dy}, {x}, {dx}, rows, ${GEOMETRY_ARGS}`,
    encode: (op, L) => [L.ptr(op.dy), L.ptr(op.x), L.ptr(op.dx), ...encodeGeometry(op, op.kind)],
  },
  webgpu: {
    kernels: { max_pool2d_backward: ['read', 'read', 'rw'], max_pool2d_backward_vec4: ['read', 'read', 'rw'] },
    async dispatches(op, env) {
      const io = [env.range(op.dy), env.range(op.x), env.range(op.dx)];
      const c = constantsOf(op, op.kind);
      if (env.custom) return [await env.custom(op.layer, c, io, env.B, inSize(op))];
      // One invocation per 4 channels where they allow (a quarter of the loads: llvmpipe pays per load).
      if (op.channels % 4 === 0 && env.prefer.conv !== 'direct') return [await env.dispatch('max_pool2d_backward_vec4', op.layer, c, io, grid1d(env.B * inSize(op) / 4))];
      return [await env.dispatch('max_pool2d_backward', op.layer, c, io, grid1d(env.B * inSize(op)))];
    },
  },
  // x on a coarse grid (integers in −2…2), so windows hold ties and every backend's tie-breaking is compared with the reference's.
  bench: benchOf<MaxPool2dBackwardOp>(2, { input: 2, output: 1 }, (g, B, random) => ({
    op: { kind: 'max_pool2d_backward', layer: 'bench', dy: 'dy', x: 'x', dx: 'dx', ...g },
    rows: B, inputs: { dy: random(B * outSize(g)), x: random(B * inSize(g), 2.5).map(Math.round) }, outputs: { dx: B * inSize(g) },
  })),
  custom: contractOf(['dy', 'x', 'dx'], 'in',
    `dx[B×IN_H×IN_W×CHANNELS] = Σ of dy over the windows whose first maximum (row-major, strictly greater replaces) is this element, 0 if none; ${GEOMETRY_TEXT}`),
});

export const averagePool2dBackwardOp = defineOp<AveragePool2dBackwardOp>({
  kind: 'average_pool2d_backward',
  summary: 'dx = Σ dy / count over the windows containing each input element',
  buffers: (op) => ({ reads: [op.dy], writes: [op.dx] }),
  reference: (op, e) => { checkPoolGeometry(op, op.kind); averagePool2dBackward(e.buf(op.dy), e.buf(op.dx), e.rows, op); },
  wasm: {
    code: 63, fn: 'averagePool2dBackward', module: './pool',
    fields: [['dy', 'ptr'], ['dx', 'ptr'], ...GEOMETRY_FIELDS],
    params: [['dy', 'usize'], ['dx', 'usize'], ['B', 'i32'], ...GEOMETRY_PARAMS],
    args: `{dy}, {dx}, rows, ${GEOMETRY_ARGS}`,
    encode: (op, L) => [L.ptr(op.dy), L.ptr(op.dx), ...encodeGeometry(op, op.kind)],
  },
  webgpu: {
    kernels: { average_pool2d_backward: ['read', 'rw'] },
    async dispatches(op, env) {
      const io = [env.range(op.dy), env.range(op.dx)];
      const c = constantsOf(op, op.kind);
      if (env.custom) return [await env.custom(op.layer, c, io, env.B, inSize(op))];
      return [await env.dispatch('average_pool2d_backward', op.layer, c, io, grid1d(env.B * inSize(op)))];
    },
  },
  bench: benchOf<AveragePool2dBackwardOp>(1, { input: 1, output: 1 }, (g, B, random) => ({
    op: { kind: 'average_pool2d_backward', layer: 'bench', dy: 'dy', dx: 'dx', ...g },
    rows: B, inputs: { dy: random(B * outSize(g)) }, outputs: { dx: B * inSize(g) },
  })),
  custom: contractOf(['dy', 'dx'], 'in',
    `dx[B×IN_H×IN_W×CHANNELS] = Σ dy / count over the windows containing this element (count: the input elements in that window), 0 if none; ${GEOMETRY_TEXT}`),
});

export const POOL2D_OPS = [maxPool2dOp, maxPool2dBackwardOp, averagePool2dOp, averagePool2dBackwardOp] as const;
