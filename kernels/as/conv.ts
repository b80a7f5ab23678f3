// conv2d forward (and the im2col the backward kernels share), NHWC inputs,
// HWIO kernels: src/ops/conv2d_forward.ts states the formula.
//
// Algorithm: im2col per tile of output pixels. The HWIO kernel is already
// the row-major [T × outC] matrix (T = kH·kW·inC) that one im2col row (the
// T input values under one output pixel, zeros in the padding) multiplies,
// so a tile of P pixels is one call of dense's SIMD gemm:
//   y[P × outC] = col[P × T] · w[T × outC] + b, ReLU in the epilogue.
// Memory: two fixed static scratch regions, no allocation at run time and
// nothing proportional to the batch:
//   COL  256 KiB: the im2col tile (P = COL_FLOATS / T pixels, rounded to a
//        multiple of 4: 227 → 224 pixels at 3×3×32), reused by dX as dcol
//   AUX  128 KiB: dX's transposed kernel, dW's partial product
// A whole-batch im2col would be 128·121·288·4 B = 17.8 MiB for the MNIST
// convnet's second conv and would stream through memory once more; a
// 256 KiB tile stays in L2 between the copy and the gemm.
// Geometries past the scratch (T > 65536 floats) take a scalar direct loop;
// short windows (T ≤ 32) the register-blocked loops of conv_small.ts.
import { gemm, EPI_NONE, EPI_RELU } from './dense';
import { smallConv, conv2dForwardSmall } from './conv_small';

export const COL_FLOATS: i32 = 65536;
export const AUX_FLOATS: i32 = 32768;
// Variables so that each thread of the threads build has its own (threads.ts).
export let COL: usize = memory.data(COL_FLOATS << 2, 16);
export let AUX: usize = memory.data(AUX_FLOATS << 2, 16);

/** Points COL and AUX at this thread's scratch. */
export function setConvScratch(col: usize, aux: usize): void {
  COL = col; AUX = aux;
}

/** Copies n floats (4 at a time, then the tail). */
// @ts-ignore: decorator
@inline export function copyFloats(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

// @ts-ignore: decorator
@inline export function zeroFloats(dst: usize, n: i32): void {
  memory.fill(dst, 0, <usize>n << 2);
}

/**
 * col[(p − p0) × T] = the T input values under output pixels p0 … p0+n−1
 * (pixel p = (b·outH + oh)·outW + ow), in (kh, kw, ic) order, 0 where the
 * window leaves the input. With dilation 1 a window row's kW taps are one
 * contiguous run of kW·inC floats in x, copied at once when all inside.
 */
export function im2col(
  x: usize, col: usize, p0: i32, n: i32,
  inH: i32, inW: i32, inC: i32, outH: i32, outW: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, pT: i32, pL: i32,
): void {
  const T = kH * kW * inC, run = kW * inC;
  let ow = p0 % outW, t = p0 / outW;
  let oh = t % outH, b = t / outH;
  let dst = col;
  for (let q = 0; q < n; q++) {
    const iw0 = ow * sW - pL, ih0 = oh * sH - pT;
    const img = x + (<usize>(b * inH) * <usize>inW) * (<usize>inC << 2);
    const rowInside = iw0 >= 0 && iw0 + (kW - 1) * dW < inW;
    for (let kh = 0; kh < kH; kh++) {
      const ih = ih0 + kh * dH;
      const d = dst + (<usize>(kh * run) << 2);
      if (ih < 0 || ih >= inH) { zeroFloats(d, run); continue; }
      const src = img + (<usize>(ih * inW) * <usize>inC << 2);
      if (rowInside && dW == 1) { copyFloats(d, src + (<usize>(iw0 * inC) << 2), run); continue; }
      for (let kw = 0; kw < kW; kw++) {
        const iw = iw0 + kw * dW;
        const dk = d + (<usize>(kw * inC) << 2);
        if (iw < 0 || iw >= inW) zeroFloats(dk, inC);
        else if (inC == 1) store<f32>(dk, load<f32>(src + (<usize>iw << 2)));
        else copyFloats(dk, src + (<usize>(iw * inC) << 2), inC);
      }
    }
    dst += <usize>T << 2;
    if (++ow == outW) { ow = 0; if (++oh == outH) { oh = 0; b++; } }
  }
}

/** Pixels per im2col tile of T floats each: a multiple of 4 (gemm's row block), at least 1. */
export function tilePixels(T: i32, total: i32): i32 {
  let n = COL_FLOATS / T;
  if (n >= 8) n &= ~3;
  if (n < 1) n = 1;
  return min(n, total);
}

/** y = conv(x, w) + b (b may be 0), ReLU when relu != 0; see the file comment. */
export function conv2dForward(
  x: usize, w: usize, bias: usize, y: usize,
  B: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32, outC: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, pT: i32, pL: i32,
  relu: i32, sparse: i32,
): void {
  const T = kH * kW * inC, P = B * outH * outW;
  const cs = <usize>outC << 2, ts = <usize>T << 2;
  const epi = relu ? EPI_RELU : EPI_NONE;
  if (T > COL_FLOATS) {
    conv2dForwardDirect(x, w, bias, y, B, inH, inW, inC, outH, outW, outC, kH, kW, sH, sW, dH, dW, pT, pL, relu);
    return;
  }
  // Short windows (T ≤ 32: the first conv of an image net): kernels/as/conv_small.ts.
  if (smallConv(T, outC)) {
    conv2dForwardSmall(x, w, bias, y, COL, B, inH, inW, inC, outH, outW, outC, kH, kW, sH, sW, dH, dW, pT, pL, relu, sparse);
    return;
  }
  // A 1×1 window at stride 1 without padding: x itself is the im2col matrix.
  if (kH == 1 && kW == 1 && sH == 1 && sW == 1 && pT == 0 && pL == 0 && outH == inH && outW == inW) {
    gemm(x, ts, 4, w, cs, y, cs, P, outC, T, bias, epi, 0, 0, sparse);
    return;
  }
  const tile = tilePixels(T, P);
  for (let p0 = 0; p0 < P; p0 += tile) {
    const n = min(tile, P - p0);
    im2col(x, COL, p0, n, inH, inW, inC, outH, outW, kH, kW, sH, sW, dH, dW, pT, pL);
    gemm(COL, ts, 4, w, cs, y + <usize>p0 * cs, cs, n, outC, T, bias, epi, 0, 0, sparse);
  }
}

/** The scalar direct convolution, for windows too large for the scratch. */
function conv2dForwardDirect(
  x: usize, w: usize, bias: usize, y: usize,
  B: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32, outC: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, pT: i32, pL: i32, relu: i32,
): void {
  for (let b = 0; b < B; b++) for (let oh = 0; oh < outH; oh++) for (let ow = 0; ow < outW; ow++) {
    const yo = y + (<usize>(((b * outH + oh) * outW + ow) * outC) << 2);
    for (let oc = 0; oc < outC; oc++) store<f32>(yo + (<usize>oc << 2), bias ? load<f32>(bias + (<usize>oc << 2)) : 0);
    for (let kh = 0; kh < kH; kh++) {
      const ih = oh * sH + kh * dH - pT;
      if (ih < 0 || ih >= inH) continue;
      for (let kw = 0; kw < kW; kw++) {
        const iw = ow * sW + kw * dW - pL;
        if (iw < 0 || iw >= inW) continue;
        const xo = x + (<usize>(((b * inH + ih) * inW + iw) * inC) << 2);
        const wo = w + (<usize>((kh * kW + kw) * inC * outC) << 2);
        for (let ic = 0; ic < inC; ic++) {
          const xv = load<f32>(xo + (<usize>ic << 2));
          const wr = wo + (<usize>(ic * outC) << 2);
          for (let oc = 0; oc < outC; oc++) {
            const o = <usize>oc << 2;
            store<f32>(yo + o, load<f32>(yo + o) + xv * load<f32>(wr + o));
          }
        }
      }
    }
    if (relu) for (let oc = 0; oc < outC; oc++) {
      const o = yo + (<usize>oc << 2);
      if (!(load<f32>(o) > 0)) store<f32>(o, 0);
    }
  }
}
