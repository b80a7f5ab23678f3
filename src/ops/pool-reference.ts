// Pooling op records and their TypeScript references (the js backend's
// compute and the oracle of every pooling kernel), channels_last (NHWC):
//   x [B, inH, inW, C] → y [B, outH, outW, C]  (windowed, Window2d geometry)
//   x [B, hw, C]       → y [B, C]              (global: hw = H·W)
// Windows are clipped to the input: "same" padding is never a candidate of
// a max and is excluded from an average's count, as TensorFlow does.
// Max-pool backward routes each dY to the first maximum of its window in
// row-major (h, then w) order — TensorFlow's tie-breaking (its CPU and GPU
// kernels both update the argmax only on a strictly greater value) —
// recomputed from x, never stored.
// Browser-safe.

import type { Window2d } from './conv-geometry.js';
import type { OpRecordBase } from './types.js';

/** Window geometry (pool size in kH/kW; dilation must be 1) and the channel count. */
export interface PoolGeometry extends Window2d { channels: number }

export interface MaxPool2dOp extends OpRecordBase, PoolGeometry { kind: 'max_pool2d'; x: string; y: string }
export interface MaxPool2dBackwardOp extends OpRecordBase, PoolGeometry { kind: 'max_pool2d_backward'; dy: string; x: string; dx: string }
export interface AveragePool2dOp extends OpRecordBase, PoolGeometry { kind: 'average_pool2d'; x: string; y: string }
export interface AveragePool2dBackwardOp extends OpRecordBase, PoolGeometry { kind: 'average_pool2d_backward'; dy: string; dx: string }

/** Global pools: `hw` = H·W positions of `channels` values per batch row. */
export interface GlobalAveragePool2dOp extends OpRecordBase { kind: 'global_average_pool2d'; x: string; y: string; hw: number; channels: number }
export interface GlobalAveragePool2dBackwardOp extends OpRecordBase { kind: 'global_average_pool2d_backward'; dy: string; dx: string; hw: number; channels: number }
export interface GlobalMaxPool2dOp extends OpRecordBase { kind: 'global_max_pool2d'; x: string; y: string; hw: number; channels: number }
export interface GlobalMaxPool2dBackwardOp extends OpRecordBase { kind: 'global_max_pool2d_backward'; dy: string; x: string; dx: string; hw: number; channels: number }

/** The geometry fields of a record (what a backward record copies from its forward). */
export function poolGeometry(g: PoolGeometry): PoolGeometry {
  const { inH, inW, outH, outW, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft, channels } = g;
  return { inH, inW, outH, outW, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft, channels };
}

/** Pooling has no dilation (Keras has none); every kernel assumes 1, so anything else is a lowering bug. */
export function checkPoolGeometry(g: PoolGeometry, kind: string): void {
  if (g.dilationH !== 1 || g.dilationW !== 1) throw new Error(`${kind}: pooling windows have dilation 1, got ${g.dilationH}×${g.dilationW}`);
}

/** The input rows [h0, h1) and columns [w0, w1) of output (oh, ow)'s window, clipped to the input. */
export function windowAt(g: Window2d, oh: number, ow: number): [h0: number, h1: number, w0: number, w1: number] {
  const hs = oh * g.strideH - g.padTop, ws = ow * g.strideW - g.padLeft;
  return [Math.max(hs, 0), Math.min(hs + g.kH, g.inH), Math.max(ws, 0), Math.min(ws + g.kW, g.inW)];
}

/** y = max of each window per channel (0 for a window with no input in it, which TF geometry never makes). */
export function maxPool2d(X: Float32Array, Y: Float32Array, B: number, g: PoolGeometry): void {
  const C = g.channels;
  for (let b = 0; b < B; b++) {
    const xb = b * g.inH * g.inW * C;
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        const [h0, h1, w0, w1] = windowAt(g, oh, ow);
        const yo = ((b * g.outH + oh) * g.outW + ow) * C;
        for (let c = 0; c < C; c++) {
          let m = h0 < h1 && w0 < w1 ? X[xb + (h0 * g.inW + w0) * C + c]! : 0;
          for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) m = Math.max(m, X[xb + (h * g.inW + w) * C + c]!);
          Y[yo + c] = m;
        }
      }
    }
  }
}

/** dx: each dY added at its window's first maximum (row-major, strictly greater replaces); zero elsewhere. */
export function maxPool2dBackward(dY: Float32Array, X: Float32Array, dX: Float32Array, B: number, g: PoolGeometry): void {
  const C = g.channels;
  dX.fill(0, 0, B * g.inH * g.inW * C);
  for (let b = 0; b < B; b++) {
    const xb = b * g.inH * g.inW * C;
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        const [h0, h1, w0, w1] = windowAt(g, oh, ow);
        if (h0 >= h1 || w0 >= w1) continue;
        const yo = ((b * g.outH + oh) * g.outW + ow) * C;
        for (let c = 0; c < C; c++) {
          let best = xb + (h0 * g.inW + w0) * C + c;
          for (let h = h0; h < h1; h++) {
            for (let w = w0; w < w1; w++) {
              const i = xb + (h * g.inW + w) * C + c;
              if (X[i]! > X[best]!) best = i;
            }
          }
          dX[best]! += dY[yo + c]!;
        }
      }
    }
  }
}

/** y = mean of each window's input elements (padding excluded from the count). */
export function averagePool2d(X: Float32Array, Y: Float32Array, B: number, g: PoolGeometry): void {
  const C = g.channels;
  for (let b = 0; b < B; b++) {
    const xb = b * g.inH * g.inW * C;
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        const [h0, h1, w0, w1] = windowAt(g, oh, ow);
        const count = Math.max(0, h1 - h0) * Math.max(0, w1 - w0);
        const yo = ((b * g.outH + oh) * g.outW + ow) * C;
        for (let c = 0; c < C; c++) {
          let s = 0;
          for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) s += X[xb + (h * g.inW + w) * C + c]!;
          Y[yo + c] = count > 0 ? s / count : 0;
        }
      }
    }
  }
}

/** dx: each dY / count spread over its window's input elements, summed where windows overlap. */
export function averagePool2dBackward(dY: Float32Array, dX: Float32Array, B: number, g: PoolGeometry): void {
  const C = g.channels;
  dX.fill(0, 0, B * g.inH * g.inW * C);
  for (let b = 0; b < B; b++) {
    const xb = b * g.inH * g.inW * C;
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        const [h0, h1, w0, w1] = windowAt(g, oh, ow);
        if (h0 >= h1 || w0 >= w1) continue;
        const count = (h1 - h0) * (w1 - w0);
        const yo = ((b * g.outH + oh) * g.outW + ow) * C;
        for (let h = h0; h < h1; h++) {
          for (let w = w0; w < w1; w++) {
            const xo = xb + (h * g.inW + w) * C;
            for (let c = 0; c < C; c++) dX[xo + c]! += dY[yo + c]! / count;
          }
        }
      }
    }
  }
}

/** y[b, c] = mean over the hw positions of row b. */
export function globalAveragePool2d(X: Float32Array, Y: Float32Array, B: number, hw: number, C: number): void {
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let p = 0; p < hw; p++) s += X[(b * hw + p) * C + c]!;
      Y[b * C + c] = s / hw;
    }
  }
}

export function globalAveragePool2dBackward(dY: Float32Array, dX: Float32Array, B: number, hw: number, C: number): void {
  for (let b = 0; b < B; b++) for (let p = 0; p < hw; p++) for (let c = 0; c < C; c++) dX[(b * hw + p) * C + c] = dY[b * C + c]! / hw;
}

/** y[b, c] = max over the hw positions of row b. */
export function globalMaxPool2d(X: Float32Array, Y: Float32Array, B: number, hw: number, C: number): void {
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      let m = X[b * hw * C + c]!;
      for (let p = 1; p < hw; p++) m = Math.max(m, X[(b * hw + p) * C + c]!);
      Y[b * C + c] = m;
    }
  }
}

/** dx = dY at the first maximum position of each (row, channel), zero elsewhere. */
export function globalMaxPool2dBackward(dY: Float32Array, X: Float32Array, dX: Float32Array, B: number, hw: number, C: number): void {
  dX.fill(0, 0, B * hw * C);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      let best = b * hw * C + c;
      for (let p = 1; p < hw; p++) {
        const i = (b * hw + p) * C + c;
        if (X[i]! > X[best]!) best = i;
      }
      dX[best] = dY[b * C + c]!;
    }
  }
}

/**
 * The forward pools' bench input x [B, positions, C] (positions = H·W): within
 * each (row, channel) plane — every window lies inside one — the positions
 * hold distinct, evenly spaced values in (−scale, scale), never 0, ordered
 * by the random `draw` (n = B·positions·C values). Why: a tie, or a near
 * tie closer than a finite difference's step, inside a window leaves the
 * max without a derivative there, so the gradient check would depend on
 * the random stream; with a gap of 2·scale/positions every window has one
 * clear maximum (an average, linear, does not mind). The backward ops' benches
 * keep their ties on purpose: they compare each backend's tie-breaking.
 */
export function distinctPerPlane(draw: Float32Array, B: number, positions: number, C: number, scale: number): Float32Array {
  const x = new Float32Array(draw.length);
  const order = Array.from({ length: positions }, (_, p) => p);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const at = (p: number) => (b * positions + p) * C + c;
      order.sort((p, q) => draw[at(p)]! - draw[at(q)]! || p - q);
      // Rank r → (2(r + 0.75)/positions − 1)·scale: never 0, as r + 0.75 is never positions/2.
      order.forEach((p, rank) => { x[at(p)] = (2 * (rank + 0.75) / positions - 1) * scale; });
    }
  }
  return x;
}
