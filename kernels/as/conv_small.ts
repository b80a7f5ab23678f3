// conv2d forward for short windows (T = kH·kW·inC ≤ SMALL_T, outC a
// multiple of 4): the MNIST convnet's first conv (28×28×1 → 32, 3×3, T = 9),
// where T is too short for the im2col gemm's 4×8 tiles (~25% of peak).
//
// Per tile of SMALL_PIX output pixels, gatherTile (conv_small_taps.ts)
// writes the pixels' windows as rows of col (4.5 KiB at T = 9). Then pairs
// of rows × 16 output channels keep 8 f32x4 sums in registers over the T
// taps: per tap 2 broadcasts of col and 4 loads of the kernel row for 8
// multiply-adds; bias and ReLU in the epilogue. Channels past the last
// multiple of 16 take pairs × 4 channels, an odd last row a single row.
// sparse != 0 (the network's input pixels): a pixel whose window is all
// zeros gets no row and its output is relu(b) (the products are exact
// zeros). Each output sums b, then the taps in (kh, kw, ic) order.
// The dW kernel of these geometries is conv_small_dw.ts.
import { madd, keepPositive } from './simd';
import { SMALL_PIX, PIXD, OFFX, RUN_LO, gatherTile, tapOffsets, windowsInside, nonzeroRun } from './conv_small_taps';
export { SMALL_T, SMALL_SCRATCH, setSmallScratch, smallConv } from './conv_small_taps';
export { conv2dBackwardWeightsSmall, conv2dBackwardWeightsSmallAdd } from './conv_small_dw';

/** Tap t of the window at c: a col row (4 bytes a tap) or, in place in x, at OFFX[t]. */
// @ts-ignore: decorator
@inline function tapAt(inPlace: bool, c: usize, t: i32): usize {
  return inPlace ? c + <usize>load<i32>(OFFX + (<usize>t << 2)) : c + (<usize>t << 2);
}

/**
 * y rows ya (and yb when two) = b + Σ_t x(window, t) · w[t], ReLU when relu:
 * ca / cb the windows (tapAt), w the kernel [T × outC], bias 0 for none.
 */
// @ts-ignore: decorator
@inline function rowsForward(two: bool, inPlace: bool, ca: usize, cb: usize, T: i32, w: usize, bias: usize, ya: usize, yb: usize, outC: i32, relu: i32): void {
  const zero = f32x4.splat(0), cs = <usize>outC << 2;
  let oc = 0;
  for (; oc + 16 <= outC; oc += 16) {
    const co = <usize>oc << 2;
    let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    if (bias) { const bp = bias + co; a0 = v128.load(bp); a1 = v128.load(bp, 16); a2 = v128.load(bp, 32); a3 = v128.load(bp, 48); }
    let b0 = a0, b1 = a1, b2 = a2, b3 = a3;
    let wp = w + co;
    for (let t = 0; t < T; t++) {
      const ta = tapAt(inPlace, ca, t);
      const w0 = v128.load(wp), w1 = v128.load(wp, 16), w2 = v128.load(wp, 32), w3 = v128.load(wp, 48);
      const xa = v128.load32_splat(ta);
      a0 = madd(xa, w0, a0); a1 = madd(xa, w1, a1); a2 = madd(xa, w2, a2); a3 = madd(xa, w3, a3);
      if (two) {
        const xb = v128.load32_splat(ta + (cb - ca));
        b0 = madd(xb, w0, b0); b1 = madd(xb, w1, b1); b2 = madd(xb, w2, b2); b3 = madd(xb, w3, b3);
      }
      wp += cs;
    }
    if (relu) {
      a0 = keepPositive(a0, a0); a1 = keepPositive(a1, a1); a2 = keepPositive(a2, a2); a3 = keepPositive(a3, a3);
      b0 = keepPositive(b0, b0); b1 = keepPositive(b1, b1); b2 = keepPositive(b2, b2); b3 = keepPositive(b3, b3);
    }
    const da = ya + co;
    v128.store(da, a0); v128.store(da, a1, 16); v128.store(da, a2, 32); v128.store(da, a3, 48);
    if (two) { const db = yb + co; v128.store(db, b0); v128.store(db, b1, 16); v128.store(db, b2, 32); v128.store(db, b3, 48); }
  }
  for (; oc < outC; oc += 4) {
    const co = <usize>oc << 2;
    let a = bias ? v128.load(bias + co) : zero;
    let b = a;
    let wp = w + co;
    for (let t = 0; t < T; t++) {
      const ta = tapAt(inPlace, ca, t), wv = v128.load(wp);
      a = madd(v128.load32_splat(ta), wv, a);
      if (two) b = madd(v128.load32_splat(ta + (cb - ca)), wv, b);
      wp += cs;
    }
    if (relu) { a = keepPositive(a, a); b = keepPositive(b, b); }
    v128.store(ya + co, a);
    if (two) v128.store(yb + co, b);
  }
}

/** relu(b) (b, or 0 without bias) into the outC floats at yo: the output of a window of zeros. */
// @ts-ignore: decorator
@inline function biasOnly(yo: usize, bias: usize, outC: i32, relu: i32): void {
  for (let oc = 0; oc < outC; oc += 4) {
    const co = <usize>oc << 2;
    const v = bias ? v128.load(bias + co) : f32x4.splat(0);
    v128.store(yo + co, relu ? keepPositive(v, v) : v);
  }
}

/** y = conv(x, w) + b (b may be 0), ReLU when relu != 0, for smallConv geometries; col: conv.ts's COL. */
export function conv2dForwardSmall(
  x: usize, w: usize, bias: usize, y: usize, col: usize,
  B: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32, outC: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, pT: i32, pL: i32,
  relu: i32, sparse: i32,
): void {
  const T = kH * kW * inC, P = B * outH * outW;
  const cs = <usize>outC << 2, ts = <usize>T << 2;
  tapOffsets(inW, inC, kH, kW, dH, dW);
  if (windowsInside(inH, inW, outH, outW, kH, kW, sH, sW, dH, dW, pT, pL)) {
    // Windows read in place, row by row: pairs of adjacent pixels; outside the row's nonzero run, relu(b).
    const xs = <usize>(sW * inC) << 2;
    let yo = y;
    for (let b = 0; b < B; b++) {
      const img = x + (<usize>(b * inH) * <usize>inW) * (<usize>inC << 2);
      for (let oh = 0; oh < outH; oh++) {
        const hi = nonzeroRun(img, oh, inW, inC, outW, kH, kW, sH, sW, dH, dW, sparse), lo = RUN_LO;
        const org = img + (<usize>(oh * sH * inW * inC) << 2);
        let ow = 0;
        for (; ow < lo; ow++) biasOnly(yo + <usize>ow * cs, bias, outC, relu);
        for (; ow + 2 <= hi; ow += 2) {
          const ca = org + <usize>ow * xs;
          rowsForward(true, true, ca, ca + xs, T, w, bias, yo + <usize>ow * cs, yo + <usize>(ow + 1) * cs, outC, relu);
        }
        if (ow < hi) { rowsForward(false, true, org + <usize>ow * xs, 0, T, w, bias, yo + <usize>ow * cs, 0, outC, relu); ow++; }
        for (; ow < outW; ow++) biasOnly(yo + <usize>ow * cs, bias, outC, relu);
        yo += <usize>outW * cs;
      }
    }
    return;
  }
  for (let p0 = 0; p0 < P; p0 += SMALL_PIX) {
    const n = min(SMALL_PIX, P - p0);
    const yt = y + <usize>p0 * cs;
    const m = gatherTile(x, col, p0, n, inH, inW, inC, outH, outW, outC, kH, kW, sH, sW, dH, dW, pT, pL, sparse);
    if (m < n) {
      // The windows of zeros (the pixels PIXD does not list): relu(b).
      let j = 0;
      for (let q = 0; q < n; q++) {
        const qo = q * outC << 2;
        if (j < m && load<i32>(PIXD + (<usize>j << 2)) == qo) { j++; continue; }
        biasOnly(yt + <usize>qo, bias, outC, relu);
      }
    }
    let i = 0;
    for (; i + 2 <= m; i += 2) {
      const ca = col + <usize>i * ts;
      rowsForward(true, false, ca, ca + ts, T, w, bias, yt + <usize>load<i32>(PIXD + (<usize>i << 2)), yt + <usize>load<i32>(PIXD + (<usize>i << 2), 4), outC, relu);
    }
    if (i < m) rowsForward(false, false, col + <usize>i * ts, 0, T, w, bias, yt + <usize>load<i32>(PIXD + (<usize>i << 2)), 0, outC, relu);
  }
}
