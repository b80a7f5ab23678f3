// The pooling ops' references (src/ops/pool-reference.ts) against float64
// loops written independently here: they walk every window position of
// the padded input and skip the padding, instead of clipping the window,
// and find a max-pool's argmax as the first index of the maximum. Then the
// rules that random inputs seldom exercise, on hand-made inputs: ties go to
// the first maximum in row-major window order (TensorFlow), "same" padding
// is never a maximum and is excluded from an average's count, and
// overlapping windows accumulate. The kernels are held to the references
// by the conformance suite, whose max-pool backward instances put x on a
// coarse grid so that windows tie; here the wasm kernels also meet the
// all-equal window, the tie every window has.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { instanceBuffers, makeCase, outputsOf, runReference, type OpData } from '../src/bench/ops.js';
import { WasmOpRunner } from '../src/bench/wasm.js';
import { window2d, type Padding } from '../src/ops/conv-geometry.js';
import { opDef } from '../src/ops/index.js';
import {
  averagePool2d, averagePool2dBackward, globalAveragePool2d, globalAveragePool2dBackward, globalMaxPool2d, globalMaxPool2dBackward,
  maxPool2d, maxPool2dBackward, type PoolGeometry,
} from '../src/ops/pool-reference.js';
import type { OpDef, OpInstance, OpRecordBase } from '../src/ops/types.js';
import { kernelRandoms } from './support/random.js';

const geometry = (H: number, W: number, C: number, k: [number, number], s: [number, number], p: Padding): PoolGeometry =>
  ({ ...window2d(H, W, k, s, [1, 1], p), channels: C });

/** Independent float64 pooling: every (kh, kw) of each window, padding skipped; the argmax is indexOf(max). */
function pool64(X: Float32Array, dY: Float32Array, B: number, g: PoolGeometry) {
  const C = g.channels;
  const out = B * g.outH * g.outW * C, inn = B * g.inH * g.inW * C;
  const yMax = new Float64Array(out), yAvg = new Float64Array(out), dxMax = new Float64Array(inn), dxAvg = new Float64Array(inn);
  for (let b = 0; b < B; b++) for (let oh = 0; oh < g.outH; oh++) for (let ow = 0; ow < g.outW; ow++) for (let c = 0; c < C; c++) {
    const at: number[] = [];
    for (let kh = 0; kh < g.kH; kh++) {
      for (let kw = 0; kw < g.kW; kw++) {
        const h = oh * g.strideH - g.padTop + kh, w = ow * g.strideW - g.padLeft + kw;
        if (h < 0 || h >= g.inH || w < 0 || w >= g.inW) continue; // padding
        at.push(((b * g.inH + h) * g.inW + w) * C + c);
      }
    }
    const o = ((b * g.outH + oh) * g.outW + ow) * C + c;
    const vals = at.map((i) => X[i]!);
    const m = Math.max(...vals);
    yMax[o] = m;
    yAvg[o] = vals.reduce((a, v) => a + v, 0) / vals.length;
    dxMax[at[vals.indexOf(m)]!]! += dY[o]!;
    for (const i of at) dxAvg[i]! += dY[o]! / vals.length;
  }
  return { yMax, yAvg, dxMax, dxAvg };
}

function close(got: Float32Array, want: Float64Array, what: string, tol = 1e-6): void {
  assert.is(got.length >= want.length, true, `${what}: length`);
  let scale = 1e-30;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i]! - want[i]!) <= tol * scale)) assert.unreachable(`${what}: at ${i} got ${got[i]}, want ${want[i]}`);
  }
}

const GEOMETRIES: [string, number, number, number, number, [number, number], [number, number], Padding][] = [
  // name, B, H, W, C, pool, strides, padding
  ['mnist conv1 2×2', 2, 26, 26, 3, [2, 2], [2, 2], 'valid'],
  ['mnist conv2 2×2 (odd input, last row dropped)', 1, 11, 11, 4, [2, 2], [2, 2], 'valid'],
  ['3×3 stride 2 same, odd padding', 2, 8, 9, 5, [3, 3], [2, 2], 'same'],
  ['2×3 stride 1×2 same', 1, 6, 7, 3, [2, 3], [1, 2], 'same'],
  ['pool 1', 1, 4, 5, 2, [1, 1], [1, 1], 'valid'],
  ['pool 3 stride 3', 2, 9, 10, 2, [3, 3], [3, 3], 'valid'],
  ['stride > pool', 1, 10, 7, 3, [2, 2], [3, 3], 'valid'],
  ['5×5 stride 2 same', 1, 8, 8, 2, [5, 5], [2, 2], 'same'],
  ['2×2 stride 1 same (the --shape geometry)', 3, 5, 5, 7, [2, 2], [1, 1], 'same'],
];

test('windowed references match independent float64 loops (max, average, both backward)', () => {
  const r = kernelRandoms(5, 100);
  for (const [name, B, H, W, C, k, s, p] of GEOMETRIES) {
    const g = geometry(H, W, C, k, s, p);
    const X = r.rand(B * H * W * C, 2), dY = r.rand(B * g.outH * g.outW * C);
    const want = pool64(X, dY, B, g);
    const y = new Float32Array(B * g.outH * g.outW * C), dx = new Float32Array(B * H * W * C).fill(Number.NaN);
    maxPool2d(X, y, B, g);
    close(y, want.yMax, `${name}: max_pool2d`);
    maxPool2dBackward(dY, X, dx, B, g);
    close(dx, want.dxMax, `${name}: max_pool2d_backward`);
    averagePool2d(X, y, B, g);
    close(y, want.yAvg, `${name}: average_pool2d`);
    dx.fill(Number.NaN);
    averagePool2dBackward(dY, dx, B, g);
    close(dx, want.dxAvg, `${name}: average_pool2d_backward`);
  }
});

test('global references match float64 loops', () => {
  const r = kernelRandoms(6, 200);
  for (const [B, hw, C] of [[1, 1, 1], [3, 9, 5], [2, 121, 64]] as const) {
    const X = r.rand(B * hw * C, 2), dY = r.rand(B * C);
    const yMax = new Float64Array(B * C), yAvg = new Float64Array(B * C), dxMax = new Float64Array(B * hw * C), dxAvg = new Float64Array(B * hw * C);
    for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) {
      const vals = Array.from({ length: hw }, (_, p) => X[(b * hw + p) * C + c]!);
      yMax[b * C + c] = Math.max(...vals);
      yAvg[b * C + c] = vals.reduce((a, v) => a + v, 0) / hw;
      dxMax[(b * hw + vals.indexOf(yMax[b * C + c]!)) * C + c] = dY[b * C + c]!;
      for (let p = 0; p < hw; p++) dxAvg[(b * hw + p) * C + c] = dY[b * C + c]! / hw;
    }
    const y = new Float32Array(B * C), dx = new Float32Array(B * hw * C).fill(Number.NaN);
    globalMaxPool2d(X, y, B, hw, C);
    close(y, yMax, 'global_max_pool2d');
    globalAveragePool2d(X, y, B, hw, C);
    close(y, yAvg, 'global_average_pool2d');
    globalMaxPool2dBackward(dY, X, dx, B, hw, C);
    close(dx, dxMax, 'global_max_pool2d_backward');
    globalAveragePool2dBackward(dY, dx, B, hw, C);
    close(dx, dxAvg, 'global_average_pool2d_backward');
  }
});

test('TensorFlow output sizes and padding: valid floors, same is ceil(in/stride) with the odd row bottom/right', () => {
  assert.equal([geometry(26, 26, 1, [2, 2], [2, 2], 'valid').outH, geometry(11, 11, 1, [2, 2], [2, 2], 'valid').outH], [13, 5]);
  const g = geometry(8, 9, 1, [3, 3], [2, 2], 'same');
  assert.equal([g.outH, g.outW, g.padTop, g.padLeft], [4, 5, 0, 1]); // totals 1 and 2
});

test('max-pool ties go to the first maximum in row-major window order; the rest of dx is zero', () => {
  // One 2×2 window per channel, C = 2, NHWC: channel 0 holds [[1, 3], [3, 2]], channel 1 all 5s.
  const g = geometry(2, 2, 2, [2, 2], [2, 2], 'valid');
  const X = new Float32Array([1, 5, 3, 5, 3, 5, 2, 5]);
  const dx = new Float32Array(8).fill(Number.NaN);
  maxPool2dBackward(new Float32Array([10, 20]), X, dx, 1, g);
  assert.equal(Array.from(dx), [0, 20, 10, 0, 0, 0, 0, 0]); // (0,1) for channel 0, (0,0) for channel 1
  // Global: the first of the equal maxima over positions.
  const gx = new Float32Array(8).fill(Number.NaN);
  globalMaxPool2dBackward(new Float32Array([10, 20]), X, gx, 1, 4, 2);
  assert.equal(Array.from(gx), [0, 20, 10, 0, 0, 0, 0, 0]);
});

test('"same" padding is never a maximum, even when every input is negative, and overlapping windows accumulate', () => {
  // 1×3 input, pool 1×2 stride 1 same: windows [0,1], [1,2], [2, pad].
  const g = geometry(1, 3, 1, [1, 2], [1, 1], 'same');
  assert.equal([g.outW, g.padLeft], [3, 0]);
  const X = new Float32Array([-3, -1, -2]);
  const y = new Float32Array(3);
  maxPool2d(X, y, 1, g);
  assert.equal(Array.from(y), [-1, -1, -2]);
  const dx = new Float32Array(3);
  maxPool2dBackward(new Float32Array([1, 2, 4]), X, dx, 1, g);
  assert.equal(Array.from(dx), [0, 3, 4]); // windows 0 and 1 both pick x[1]
});

test('"same" average pooling divides by the valid elements only (TensorFlow), and so does its backward', () => {
  // 3×3 input, pool 2×2 stride 2 same: output 2×2, padding 1 row bottom and 1 column right.
  const g = geometry(3, 3, 1, [2, 2], [2, 2], 'same');
  assert.equal([g.outH, g.outW, g.padTop, g.padLeft], [2, 2, 0, 0]);
  const X = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const y = new Float32Array(4);
  averagePool2d(X, y, 1, g);
  assert.equal(Array.from(y), [(1 + 2 + 4 + 5) / 4, (3 + 6) / 2, (7 + 8) / 2, 9]);
  const dx = new Float32Array(9);
  averagePool2dBackward(new Float32Array([4, 2, 2, 1]), dx, 1, g);
  assert.equal(Array.from(dx), [1, 1, 1, 1, 1, 1, 1, 1, 1]);
});

/** Runs an op's wasm kernel on given inputs and returns its outputs next to the reference's. */
async function wasmAndReference(runner: WasmOpRunner, kind: string, dims: number[], inputs: Record<string, Float32Array>) {
  const def = opDef(kind) as OpDef;
  const base = def.bench!.instance(dims, (n) => new Float32Array(n).fill(1));
  const instance: OpInstance<OpRecordBase> = { ...base, inputs };
  const buffers = instanceBuffers(instance);
  runReference(def, instance, buffers);
  const data: OpData = { instance, inputs, expected: outputsOf(instance, (name, n) => buffers[name]!.slice(0, n)) };
  const kernel = await runner.prepare(makeCase(kind, dims), data);
  try {
    return { got: (await kernel.check()).arrays, want: data.expected };
  } finally {
    kernel.dispose();
  }
}

test('the wasm max-pool backward kernels route all-equal windows to their first element, as the references do', async () => {
  const runner = await WasmOpRunner.create(false);
  // 3×3 stride 2 same over 7×7, C = 6 (a vector and a scalar tail): windows overlap and ties everywhere.
  const dims = [2, 7, 7, 6, 3, 3, 2, 2, 1];
  const g = geometry(7, 7, 6, [3, 3], [2, 2], 'same');
  const r = kernelRandoms(7, 300);
  const x = new Float32Array(2 * 7 * 7 * 6).fill(0.5), dy = r.rand(2 * g.outH * g.outW * 6);
  const w = await wasmAndReference(runner, 'max_pool2d_backward', dims, { dy, x });
  const want = pool64(x, dy, 2, g).dxMax;
  close(w.want.dx!, want, 'reference');
  close(w.got.dx!, want, 'wasm kernel');
  const gw = await wasmAndReference(runner, 'global_max_pool2d_backward', [2, 9, 6], { dy: r.rand(12), x: new Float32Array(2 * 9 * 6).fill(-1) });
  assert.equal(Array.from(gw.got.dx!), Array.from(gw.want.dx!));
});

test('the 2×2 stride-2 max pool kernels (pool_2x2.ts) break ties and zero the unused odd column as the reference does', async () => {
  const runner = await WasmOpRunner.create(false);
  // 6×5 input, C = 8: the last column is in no window; values on a coarse grid, so most windows tie.
  const dims = [2, 6, 5, 8, 2, 2, 2, 2, 0];
  const g = geometry(6, 5, 8, [2, 2], [2, 2], 'valid');
  const r = kernelRandoms(11, 300);
  const x = r.rand(2 * 6 * 5 * 8).map((v) => Math.round(v * 2) / 2), dy = r.rand(2 * g.outH * g.outW * 8);
  const f = await wasmAndReference(runner, 'max_pool2d', dims, { x });
  assert.equal(Array.from(f.got.y!), Array.from(f.want.y!));
  const b = await wasmAndReference(runner, 'max_pool2d_backward', dims, { dy, x });
  assert.equal(Array.from(b.got.dx!), Array.from(pool64(x, dy, 2, g).dxMax));
  assert.equal(Array.from(b.got.dx!), Array.from(b.want.dx!));
});

test.run();
