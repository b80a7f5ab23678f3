// conv2d dW for short windows (T = kH·kW·inC ≤ SMALL_T, outC a multiple of
// 4), the MNIST convnet's first conv (T = 9, outC = 32): dw [T × outC] =
// colᵀ · dy, a [T × P] × [P × outC] product over P = B·outH·outW pixels.
//
// Per tile of SMALL_PIX pixels, gatherTile (conv_small_taps.ts) writes the
// pixels' windows as rows of col, leaving out the all-zero windows of the
// network's input when sparse (most of an MNIST image). Then each block of
// 2 taps × 16 output channels keeps its 8 f32x4 sums in registers while the
// tile's rows stream past: per row 2 broadcasts of col and 4 loads of dy for
// 8 multiply-adds (the tile's 16 KiB of dy stays in L1 across the blocks);
// the sums go back to dw after each tile. Channels past the last multiple
// of 16 take blocks of 2 taps × 4 channels, an odd last tap blocks of 1.
//
// One input channel with the tap step equal to the pixel step (inC = 1,
// dW = sW: the first conv of a grayscale net) takes blocks of 3 taps of a
// kernel row × 8 channels instead (runTriple): pixel q's taps kw+1 and
// kw+2 read what pixel q+1's taps kw and kw+1 read, so each pixel loads
// one new x splat and 2 dy vectors for 6 multiply-adds. The 2 × 16 blocks
// load 6 values for 8 (V8 folds no load into an FP op, and the loads share
// the FP pipes' issue slots): over 2 images in cache they ran at 76–78% of
// the peak, these at 84–95% in the same runs (same bits: each sum still
// adds its pixels in ascending order).
//
// threads.ts splits dW by taps; a pixel is listed by its whole window, never
// by the thread's taps, so every dw element sums the same terms in the same
// order (pixels ascending) at any thread count. Skipped terms are exact zeros.
import { madd } from './simd';
import { SMALL_PIX, PIXD, OFFX, RUNS, RUN_ROWS, RUN_LO, gatherTile, tapOffsets, windowsInside, nonzeroRun } from './conv_small_taps';

/**
 * dw rows t (and t+1 when two) += Σ over the m rows of col of col[i, t…]
 * · dy[pixel of row i, channels]. c0 = col + 4t, dyt = dy's tile, wr = dw row t.
 */
// @ts-ignore: decorator
@inline function tapBlock(two: bool, c0: usize, ts: usize, dyt: usize, wr: usize, m: i32, outC: i32): void {
  const cs = <usize>outC << 2;
  let oc = 0;
  for (; oc + 16 <= outC; oc += 16) {
    const co = <usize>oc << 2, d = wr + co, e = d + cs, g = dyt + co;
    let a0 = v128.load(d), a1 = v128.load(d, 16), a2 = v128.load(d, 32), a3 = v128.load(d, 48);
    let b0 = a0, b1 = a1, b2 = a2, b3 = a3;
    if (two) { b0 = v128.load(e); b1 = v128.load(e, 16); b2 = v128.load(e, 32); b3 = v128.load(e, 48); }
    let xc = c0;
    for (let i = 0; i < m; i++) {
      const gp = g + <usize>load<i32>(PIXD + (<usize>i << 2));
      const x0 = v128.load32_splat(xc);
      const g0 = v128.load(gp), g1 = v128.load(gp, 16), g2 = v128.load(gp, 32), g3 = v128.load(gp, 48);
      a0 = madd(x0, g0, a0); a1 = madd(x0, g1, a1); a2 = madd(x0, g2, a2); a3 = madd(x0, g3, a3);
      if (two) {
        const x1 = v128.load32_splat(xc, 4);
        b0 = madd(x1, g0, b0); b1 = madd(x1, g1, b1); b2 = madd(x1, g2, b2); b3 = madd(x1, g3, b3);
      }
      xc += ts;
    }
    v128.store(d, a0); v128.store(d, a1, 16); v128.store(d, a2, 32); v128.store(d, a3, 48);
    if (two) { v128.store(e, b0); v128.store(e, b1, 16); v128.store(e, b2, 32); v128.store(e, b3, 48); }
  }
  for (; oc < outC; oc += 4) {
    const co = <usize>oc << 2, d = wr + co, e = d + cs, g = dyt + co;
    let a = v128.load(d), b = two ? v128.load(e) : a;
    let xc = c0;
    for (let i = 0; i < m; i++) {
      const gv = v128.load(g + <usize>load<i32>(PIXD + (<usize>i << 2)));
      a = madd(v128.load32_splat(xc), gv, a);
      if (two) b = madd(v128.load32_splat(xc, 4), gv, b);
      xc += ts;
    }
    v128.store(d, a);
    if (two) v128.store(e, b);
  }
}

/**
 * As tapBlock for windows read in place: over the nr rows of RUNS (x at the
 * run's first window, dy there, the count), pixels xs bytes apart in x;
 * tap t at OFFX[t] from a window's start, tap t+1 d1 bytes further.
 */
// @ts-ignore: decorator
@inline function runBlock(two: bool, ot: usize, d1: usize, xs: usize, nr: i32, wr: usize, outC: i32, oc0: i32): void {
  const cs = <usize>outC << 2;
  let oc = oc0;
  for (; oc + 16 <= outC; oc += 16) {
    const co = <usize>oc << 2, d = wr + co, e = d + cs;
    let a0 = v128.load(d), a1 = v128.load(d, 16), a2 = v128.load(d, 32), a3 = v128.load(d, 48);
    let b0 = a0, b1 = a1, b2 = a2, b3 = a3;
    if (two) { b0 = v128.load(e); b1 = v128.load(e, 16); b2 = v128.load(e, 32); b3 = v128.load(e, 48); }
    for (let j = 0; j < nr; j++) {
      const r = RUNS + <usize>(j * 12);
      let xc = <usize>load<i32>(r) + ot, gp = <usize>load<i32>(r, 4) + co;
      const xe = xc + <usize>load<i32>(r, 8) * xs;
      while (xc < xe) {
        const x0 = v128.load32_splat(xc);
        const g0 = v128.load(gp), g1 = v128.load(gp, 16), g2 = v128.load(gp, 32), g3 = v128.load(gp, 48);
        a0 = madd(x0, g0, a0); a1 = madd(x0, g1, a1); a2 = madd(x0, g2, a2); a3 = madd(x0, g3, a3);
        if (two) {
          const x1 = v128.load32_splat(xc + d1);
          b0 = madd(x1, g0, b0); b1 = madd(x1, g1, b1); b2 = madd(x1, g2, b2); b3 = madd(x1, g3, b3);
        }
        xc += xs; gp += cs;
      }
    }
    v128.store(d, a0); v128.store(d, a1, 16); v128.store(d, a2, 32); v128.store(d, a3, 48);
    if (two) { v128.store(e, b0); v128.store(e, b1, 16); v128.store(e, b2, 32); v128.store(e, b3, 48); }
  }
  for (; oc < outC; oc += 4) {
    const co = <usize>oc << 2, d = wr + co, e = d + cs;
    let a = v128.load(d), b = two ? v128.load(e) : a;
    for (let j = 0; j < nr; j++) {
      const r = RUNS + <usize>(j * 12);
      let xc = <usize>load<i32>(r) + ot, gp = <usize>load<i32>(r, 4) + co;
      const xe = xc + <usize>load<i32>(r, 8) * xs;
      while (xc < xe) {
        const gv = v128.load(gp);
        a = madd(v128.load32_splat(xc), gv, a);
        if (two) b = madd(v128.load32_splat(xc + d1), gv, b);
        xc += xs; gp += cs;
      }
    }
    v128.store(d, a);
    if (two) v128.store(e, b);
  }
}

/**
 * dw rows t, t+1, t+2 (taps kw … kw+2 of one kernel row, inC = 1 and tap
 * step = pixel step = xs bytes) += the RUNS' terms, 8 channels at a time
 * from channel 0; returns the first channel left (outC mod 8 of them).
 */
// @ts-ignore: decorator
@inline function runTriple(ot: usize, xs: usize, nr: i32, wr: usize, outC: i32): i32 {
  const cs = <usize>outC << 2;
  let oc = 0;
  for (; oc + 8 <= outC; oc += 8) {
    const co = <usize>oc << 2, d = wr + co, e = d + cs, f = e + cs;
    let a0 = v128.load(d), a1 = v128.load(d, 16), b0 = v128.load(e), b1 = v128.load(e, 16), c0 = v128.load(f), c1 = v128.load(f, 16);
    for (let j = 0; j < nr; j++) {
      const r = RUNS + <usize>(j * 12), count = load<i32>(r, 8);
      if (count <= 0) continue;
      // x2 walks tap kw+2's input; p0, p1 hold taps kw, kw+1's (read by the previous pixel as its kw+1, kw+2).
      const x0 = <usize>load<i32>(r) + ot;
      let x2 = x0 + (xs << 1), gp = <usize>load<i32>(r, 4) + co;
      const xe = x2 + <usize>count * xs;
      let p0 = v128.load32_splat(x0), p1 = v128.load32_splat(x0 + xs);
      while (x2 < xe) {
        const p2 = v128.load32_splat(x2);
        const g0 = v128.load(gp), g1 = v128.load(gp, 16);
        a0 = madd(p0, g0, a0); a1 = madd(p0, g1, a1);
        b0 = madd(p1, g0, b0); b1 = madd(p1, g1, b1);
        c0 = madd(p2, g0, c0); c1 = madd(p2, g1, c1);
        p0 = p1; p1 = p2;
        x2 += xs; gp += cs;
      }
    }
    v128.store(d, a0); v128.store(d, a1, 16); v128.store(e, b0); v128.store(e, b1, 16); v128.store(f, c0); v128.store(f, c1, 16);
  }
  return oc;
}

/**
 * The taps t0 … t1−1 of an inC = 1, dW = sW geometry over the RUNS: per
 * kernel row, 3 taps at a time (runTriple), then the row's last 1 or 2.
 */
function rowTaps(t0: i32, t1: i32, kW: i32, xs: usize, nr: i32, dw: usize, outC: i32): void {
  const cs = <usize>outC << 2;
  for (let t = t0; t < t1;) {
    const n = min(3, min(kW - t % kW, t1 - t));
    const ot = <usize>load<i32>(OFFX + (<usize>t << 2)), wr = dw + <usize>t * cs;
    if (n == 3) {
      const oc = runTriple(ot, xs, nr, wr, outC);
      if (oc < outC) {
        runBlock(true, ot, xs, xs, nr, wr, outC, oc);
        runBlock(false, ot + (xs << 1), 0, xs, nr, wr + (cs << 1), outC, oc);
      }
    } else if (n == 2) runBlock(true, ot, xs, xs, nr, wr, outC, 0);
    else runBlock(false, ot, 0, xs, nr, wr, outC, 0);
    t += n;
  }
}

/**
 * The first tap of a share, 32 channels at a time (8 sums; the rest as
 * runBlock): this pass brings each dy row into cache whole, where 16-channel
 * blocks would stream half rows from memory.
 */
// @ts-ignore: decorator
@inline function runWide(ot: usize, xs: usize, nr: i32, wr: usize, outC: i32): i32 {
  const cs = <usize>outC << 2;
  let oc = 0;
  for (; oc + 32 <= outC; oc += 32) {
    const co = <usize>oc << 2, d = wr + co;
    let a0 = v128.load(d), a1 = v128.load(d, 16), a2 = v128.load(d, 32), a3 = v128.load(d, 48);
    let a4 = v128.load(d, 64), a5 = v128.load(d, 80), a6 = v128.load(d, 96), a7 = v128.load(d, 112);
    for (let j = 0; j < nr; j++) {
      const r = RUNS + <usize>(j * 12);
      let xc = <usize>load<i32>(r) + ot, gp = <usize>load<i32>(r, 4) + co;
      const xe = xc + <usize>load<i32>(r, 8) * xs;
      while (xc < xe) {
        const x0 = v128.load32_splat(xc);
        a0 = madd(x0, v128.load(gp), a0); a1 = madd(x0, v128.load(gp, 16), a1);
        a2 = madd(x0, v128.load(gp, 32), a2); a3 = madd(x0, v128.load(gp, 48), a3);
        a4 = madd(x0, v128.load(gp, 64), a4); a5 = madd(x0, v128.load(gp, 80), a5);
        a6 = madd(x0, v128.load(gp, 96), a6); a7 = madd(x0, v128.load(gp, 112), a7);
        xc += xs; gp += cs;
      }
    }
    v128.store(d, a0); v128.store(d, a1, 16); v128.store(d, a2, 32); v128.store(d, a3, 48);
    v128.store(d, a4, 64); v128.store(d, a5, 80); v128.store(d, a6, 96); v128.store(d, a7, 112);
  }
  return oc;
}

/** The rows t0 … t1−1 (taps) of dw = dL/dw (HWIO) for smallConv geometries (dw need not be zeroed); db is left to the caller. */
export function conv2dBackwardWeightsSmall(
  x: usize, dy: usize, dw: usize, col: usize,
  B: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32, outC: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, pT: i32, pL: i32,
  sparse: i32, t0: i32, t1: i32,
): void {
  // Only the taps (rows of dw) t0 … t1−1: a thread's share; 0 … T on one thread.
  memory.fill(dw + <usize>t0 * (<usize>outC << 2), 0, <usize>(t1 - t0) * (<usize>outC << 2));
  conv2dBackwardWeightsSmallAdd(x, dy, dw, col, B, inH, inW, inC, outH, outW, outC, kH, kW, sH, sW, dH, dW, pT, pL, sparse, t0, t1);
}

/**
 * As conv2dBackwardWeightsSmall, adding to dw's rows t0 … t1−1: B images'
 * terms in the order a call over more images would add them (pixels
 * ascending), so calls over consecutive chunks of a batch give its bits.
 */
export function conv2dBackwardWeightsSmallAdd(
  x: usize, dy: usize, dw: usize, col: usize,
  B: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32, outC: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, pT: i32, pL: i32,
  sparse: i32, t0: i32, t1: i32,
): void {
  const T = kH * kW * inC, P = B * outH * outW;
  const cs = <usize>outC << 2, ts = <usize>T << 2;
  tapOffsets(inW, inC, kH, kW, dH, dW);
  if (windowsInside(inH, inW, outH, outW, kH, kW, sH, sW, dH, dW, pT, pL)) {
    // Windows read in place: tiles of output rows (about SMALL_PIX pixels), each row's nonzero run listed in RUNS.
    const xs = <usize>(sW * inC) << 2, rows = B * outH;
    const R = min(RUN_ROWS, max(1, SMALL_PIX / outW));
    for (let r0 = 0; r0 < rows; r0 += R) {
      const nr = min(R, rows - r0);
      for (let j = 0; j < nr; j++) {
        const b = (r0 + j) / outH, oh = (r0 + j) % outH;
        const img = x + (<usize>(b * inH) * <usize>inW) * (<usize>inC << 2);
        const hi = nonzeroRun(img, oh, inW, inC, outW, kH, kW, sH, sW, dH, dW, sparse), lo = RUN_LO;
        const r = RUNS + <usize>(j * 12);
        store<i32>(r, <i32>(img + (<usize>(oh * sH * inW * inC) << 2) + <usize>lo * xs));
        store<i32>(r, <i32>(dy + (<usize>((r0 + j) * outW + lo) * cs)), 4);
        store<i32>(r, max(0, hi - lo), 8);
      }
      if (inC == 1 && dW == sW) { rowTaps(t0, t1, kW, xs, nr, dw, outC); continue; }
      let t = t0;
      if (t < t1) {
        const ot = <usize>load<i32>(OFFX + (<usize>t << 2)), wr = dw + <usize>t * cs;
        runBlock(false, ot, 0, xs, nr, wr, outC, runWide(ot, xs, nr, wr, outC));
        t++;
      }
      for (; t + 2 <= t1; t += 2) {
        const ot = <usize>load<i32>(OFFX + (<usize>t << 2));
        runBlock(true, ot, <usize>load<i32>(OFFX + (<usize>t << 2), 4) - ot, xs, nr, dw + <usize>t * cs, outC, 0);
      }
      if (t < t1) runBlock(false, <usize>load<i32>(OFFX + (<usize>t << 2)), 0, xs, nr, dw + <usize>t * cs, outC, 0);
    }
    return;
  }
  for (let p0 = 0; p0 < P; p0 += SMALL_PIX) {
    const n = min(SMALL_PIX, P - p0);
    const m = gatherTile(x, col, p0, n, inH, inW, inC, outH, outW, outC, kH, kW, sH, sW, dH, dW, pT, pL, sparse);
    const dyt = dy + <usize>p0 * cs;
    let t = t0;
    for (; t + 2 <= t1; t += 2) tapBlock(true, col + (<usize>t << 2), ts, dyt, dw + <usize>t * cs, m, outC);
    if (t < t1) tapBlock(false, col + (<usize>t << 2), ts, dyt, dw + <usize>t * cs, m, outC);
  }
}
