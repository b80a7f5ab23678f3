// conv2d forward and dW for short windows (T = kH·kW·inC ≤ SMALL_T, outC a
// multiple of 4): the MNIST convnet's first conv (28×28×1 → 32, 3×3, T = 9),
// where T is too short for the im2col gemm's 4×8 tiles (~25% of peak).
//   forward: per output pixel, the window's taps are listed (value, offset
//     of the kernel row), then each tap is broadcast against the kernel
//     row, 32 output channels (8 f32x4 accumulators) at a time, no im2col.
//   dW: per tile of SMALL_PIX pixels, the taps of each pixel are gathered
//     into a [n × T] column block (COL of conv.ts); then for each tap, the
//     8 accumulators of dw[tap, 32 channels] sum x(p, tap)·dy[p] over the
//     tile (dy's tile stays in L1 across the T taps).
// sparse != 0: zero taps are left out of the lists (branch-free), so a
// window of zeros costs only its gather. Skipped terms are exact zeros; sums
// run over taps / pixels in ascending order, as the reference.
import { madd, keepPositive } from './simd';

export const SMALL_T: i32 = 32;
const SMALL_PIX: i32 = 128;
// Variables so that each thread of the threads build has its own (threads.ts).
let TAPV: usize = memory.data(SMALL_T << 2, 16);
let TAPW: usize = memory.data(SMALL_T << 2, 16);
let PIX: usize = memory.data(SMALL_PIX << 2, 16);
let OFFX: usize = memory.data(SMALL_T << 2, 16);

/** Bytes of scratch setSmallScratch takes. */
export const SMALL_SCRATCH: i32 = (3 * SMALL_T + SMALL_PIX) << 2;

/** Points the tap and pixel lists at this thread's scratch (SMALL_SCRATCH bytes). */
export function setSmallScratch(p: usize): void {
  TAPV = p; TAPW = p + (<usize>SMALL_T << 2); OFFX = p + (<usize>(2 * SMALL_T) << 2); PIX = p + (<usize>(3 * SMALL_T) << 2);
}

/** OFFX[t] = the byte offset in x of tap t from its window's first tap (all taps inside). */
function tapOffsets(inW: i32, inC: i32, kH: i32, kW: i32, dH: i32, dW: i32): void {
  let t = 0;
  for (let kh = 0; kh < kH; kh++) for (let kw = 0; kw < kW; kw++) for (let ic = 0; ic < inC; ic++) {
    store<i32>(OFFX + (<usize>t << 2), ((kh * dH * inW + kw * dW) * inC + ic) << 2);
    t++;
  }
}

/**
 * The window of output pixel (b, oh, ow) when all of it is inside x: the
 * address of its first tap, else 0 (then listTaps gathers it).
 */
// @ts-ignore: decorator
@inline function windowInside(
  x: usize, b: i32, oh: i32, ow: i32, inH: i32, inW: i32, inC: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, pT: i32, pL: i32,
): usize {
  const ih0 = oh * sH - pT, iw0 = ow * sW - pL;
  if (ih0 < 0 || ih0 + (kH - 1) * dH >= inH || iw0 < 0 || iw0 + (kW - 1) * dW >= inW) return 0;
  return x + ((<usize>(b * inH + ih0) * <usize>inW + <usize>iw0) * <usize>inC << 2);
}

/** Whether conv2dForwardSmall / conv2dBackwardWeightsSmall handle this geometry. */
export function smallConv(T: i32, outC: i32): bool {
  return T <= SMALL_T && (outC & 3) == 0;
}

/**
 * Lists the taps of the window of output pixel (b, oh, ow): TAPV the values,
 * TAPW the byte offsets (tap·outC·4) of their kernel rows. Taps in the
 * padding are left out; so are zero taps when sparse. Returns the count.
 */
// @ts-ignore: decorator
@inline function listTaps(
  x: usize, b: i32, oh: i32, ow: i32, inH: i32, inW: i32, inC: i32, outC: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, pT: i32, pL: i32, sparse: i32,
): i32 {
  const ih0 = oh * sH - pT, iw0 = ow * sW - pL;
  const img = x + (<usize>(b * inH) * <usize>inW) * (<usize>inC << 2);
  let n = 0, t = 0;
  for (let kh = 0; kh < kH; kh++) {
    const ih = ih0 + kh * dH;
    if (ih < 0 || ih >= inH) { t += kW * inC; continue; }
    const row = img + (<usize>(ih * inW) * <usize>inC << 2);
    for (let kw = 0; kw < kW; kw++) {
      const iw = iw0 + kw * dW;
      if (iw < 0 || iw >= inW) { t += inC; continue; }
      const src = row + (<usize>(iw * inC) << 2);
      for (let ic = 0; ic < inC; ic++) {
        const v = load<f32>(src + (<usize>ic << 2));
        store<f32>(TAPV + (<usize>n << 2), v);
        store<i32>(TAPW + (<usize>n << 2), t * outC << 2);
        n += sparse ? i32(v != 0) : 1;
        t++;
      }
    }
  }
  return n;
}

// Tap k's input value and kernel row: from the list (TAPV, TAPW) or, for a
// window inside x starting at org, from OFFX and k itself.
// @ts-ignore: decorator
@inline function tapX(list: bool, org: usize, k: i32): usize {
  return list ? TAPV + (<usize>k << 2) : org + <usize>load<i32>(OFFX + (<usize>k << 2));
}
// @ts-ignore: decorator
@inline function tapW(list: bool, w: usize, k: i32, cs: usize): usize {
  return list ? w + <usize>load<i32>(TAPW + (<usize>k << 2)) : w + <usize>k * cs;
}

/** y[pixel] (yo) = Σ over the n taps of tap value · kernel row, + bias, ReLU. */
// @ts-ignore: decorator
@inline function forwardPixel(list: bool, org: usize, n: i32, w: usize, bias: usize, yo: usize, outC: i32, relu: i32): void {
  const zero = f32x4.splat(0), cs = <usize>outC << 2;
  let oc = 0;
  for (; oc + 32 <= outC; oc += 32) {
    const co = <usize>oc << 2;
    let a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
    if (bias) {
      const bp = bias + co;
      a0 = v128.load(bp); a1 = v128.load(bp, 16); a2 = v128.load(bp, 32); a3 = v128.load(bp, 48);
      a4 = v128.load(bp, 64); a5 = v128.load(bp, 80); a6 = v128.load(bp, 96); a7 = v128.load(bp, 112);
    }
    for (let k = 0; k < n; k++) {
      const xv = v128.load32_splat(tapX(list, org, k));
      const wp = tapW(list, w, k, cs) + co;
      a0 = madd(xv, v128.load(wp), a0); a1 = madd(xv, v128.load(wp, 16), a1);
      a2 = madd(xv, v128.load(wp, 32), a2); a3 = madd(xv, v128.load(wp, 48), a3);
      a4 = madd(xv, v128.load(wp, 64), a4); a5 = madd(xv, v128.load(wp, 80), a5);
      a6 = madd(xv, v128.load(wp, 96), a6); a7 = madd(xv, v128.load(wp, 112), a7);
    }
    if (relu) {
      a0 = keepPositive(a0, a0); a1 = keepPositive(a1, a1); a2 = keepPositive(a2, a2); a3 = keepPositive(a3, a3);
      a4 = keepPositive(a4, a4); a5 = keepPositive(a5, a5); a6 = keepPositive(a6, a6); a7 = keepPositive(a7, a7);
    }
    const d = yo + co;
    v128.store(d, a0); v128.store(d, a1, 16); v128.store(d, a2, 32); v128.store(d, a3, 48);
    v128.store(d, a4, 64); v128.store(d, a5, 80); v128.store(d, a6, 96); v128.store(d, a7, 112);
  }
  for (; oc < outC; oc += 4) {
    const co = <usize>oc << 2;
    let a = bias ? v128.load(bias + co) : zero;
    for (let k = 0; k < n; k++) a = madd(v128.load32_splat(tapX(list, org, k)), v128.load(tapW(list, w, k, cs) + co), a);
    if (relu) a = keepPositive(a, a);
    v128.store(yo + co, a);
  }
}

/** y = conv(x, w) + b (b may be 0), ReLU when relu != 0, for smallConv geometries. */
export function conv2dForwardSmall(
  x: usize, w: usize, bias: usize, y: usize,
  B: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32, outC: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, pT: i32, pL: i32,
  relu: i32, sparse: i32,
): void {
  const T = kH * kW * inC;
  tapOffsets(inW, inC, kH, kW, dH, dW);
  let yo = y;
  for (let b = 0; b < B; b++) for (let oh = 0; oh < outH; oh++) for (let ow = 0; ow < outW; ow++) {
    const org = windowInside(x, b, oh, ow, inH, inW, inC, kH, kW, sH, sW, dH, dW, pT, pL);
    if (org) {
      let n = T;
      if (sparse) {
        // A window of zeros (most of an MNIST image's border) is the bias alone.
        let nz = 0;
        for (let k = 0; k < T; k++) nz |= i32(load<f32>(tapX(false, org, k)) != 0);
        if (!nz) n = 0;
      }
      forwardPixel(false, org, n, w, bias, yo, outC, relu);
    } else {
      const n = listTaps(x, b, oh, ow, inH, inW, inC, outC, kH, kW, sH, sW, dH, dW, pT, pL, sparse);
      forwardPixel(true, 0, n, w, bias, yo, outC, relu);
    }
    yo += <usize>outC << 2;
  }
}

/** The rows t0 … t1−1 (taps) of dw = dL/dw (HWIO) for smallConv geometries (dw need not be zeroed); db is left to the caller. */
export function conv2dBackwardWeightsSmall(
  x: usize, dy: usize, dw: usize, col: usize,
  B: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32, outC: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, pT: i32, pL: i32,
  sparse: i32, t0: i32, t1: i32,
): void {
  const T = kH * kW * inC, P = B * outH * outW;
  const cs = <usize>outC << 2;
  // Only the taps (rows of dw) t0 … t1−1: a thread's share; 0 … T on one thread.
  memory.fill(dw + <usize>t0 * cs, 0, <usize>(t1 - t0) * cs);
  tapOffsets(inW, inC, kH, kW, dH, dW);
  let ow = 0, oh = 0, b = 0;
  for (let p0 = 0; p0 < P; p0 += SMALL_PIX) {
    const np = min(SMALL_PIX, P - p0);
    // col[q × T] = the T taps of pixel p0 + q (0 in the padding).
    for (let q = 0; q < np; q++) {
      const c = col + (<usize>(q * T) << 2);
      const org = windowInside(x, b, oh, ow, inH, inW, inC, kH, kW, sH, sW, dH, dW, pT, pL);
      if (org) {
        for (let k = 0; k < T; k++) store<f32>(c + (<usize>k << 2), load<f32>(tapX(false, org, k)));
      } else {
        memory.fill(c, 0, <usize>T << 2);
        const n = listTaps(x, b, oh, ow, inH, inW, inC, outC, kH, kW, sH, sW, dH, dW, pT, pL, 0);
        for (let k = 0; k < n; k++) {
          const kb = <usize>k << 2;
          store<f32>(c + (<usize>(load<i32>(TAPW + kb) / outC)), load<f32>(TAPV + kb));
        }
      }
      if (++ow == outW) { ow = 0; if (++oh == outH) { oh = 0; b++; } }
    }
    const dyt = dy + <usize>p0 * cs;
    for (let t = t0; t < t1; t++) {
      const ct = col + (<usize>t << 2), ts = <usize>T << 2;
      // PIX = the pixels q of the tile (byte offsets into dy's tile), zero taps left out when sparse.
      let n = np;
      if (sparse) {
        n = 0;
        for (let q = 0; q < np; q++) {
          store<i32>(PIX + (<usize>n << 2), q);
          n += i32(load<f32>(ct + <usize>q * ts) != 0);
        }
      }
      const wr = dw + <usize>t * cs;
      let oc = 0;
      for (; oc + 32 <= outC; oc += 32) {
        const co = <usize>oc << 2, d = wr + co;
        let a0 = v128.load(d), a1 = v128.load(d, 16), a2 = v128.load(d, 32), a3 = v128.load(d, 48);
        let a4 = v128.load(d, 64), a5 = v128.load(d, 80), a6 = v128.load(d, 96), a7 = v128.load(d, 112);
        for (let k = 0; k < n; k++) {
          const q = sparse ? load<i32>(PIX + (<usize>k << 2)) : k;
          const xv = v128.load32_splat(ct + <usize>q * ts);
          const gp = dyt + <usize>q * cs + co;
          a0 = madd(xv, v128.load(gp), a0); a1 = madd(xv, v128.load(gp, 16), a1);
          a2 = madd(xv, v128.load(gp, 32), a2); a3 = madd(xv, v128.load(gp, 48), a3);
          a4 = madd(xv, v128.load(gp, 64), a4); a5 = madd(xv, v128.load(gp, 80), a5);
          a6 = madd(xv, v128.load(gp, 96), a6); a7 = madd(xv, v128.load(gp, 112), a7);
        }
        v128.store(d, a0); v128.store(d, a1, 16); v128.store(d, a2, 32); v128.store(d, a3, 48);
        v128.store(d, a4, 64); v128.store(d, a5, 80); v128.store(d, a6, 96); v128.store(d, a7, 112);
      }
      for (; oc < outC; oc += 4) {
        const co = <usize>oc << 2, d = wr + co;
        let a = v128.load(d);
        for (let k = 0; k < n; k++) {
          const q = sparse ? load<i32>(PIX + (<usize>k << 2)) : k;
          a = madd(v128.load32_splat(ct + <usize>q * ts), v128.load(dyt + <usize>q * cs + co), a);
        }
        v128.store(d, a);
      }
    }
  }
}
