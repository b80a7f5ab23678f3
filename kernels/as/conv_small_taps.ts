// What the short-window conv kernels (conv_small.ts forward, conv_small_dw.ts
// dW) share: their per-thread scratch and the gather of a tile of output
// pixels' windows into a compact column block.
//
// gatherTile writes, for up to SMALL_PIX consecutive output pixels, each
// pixel's T = kH·kW·inC taps as one row of col [m × T] (0 in the padding,
// taps in (kh, kw, ic) order, as HWIO kernel rows), and PIXD[i] = the byte
// offset (q·outC·4) of row i's pixel q in the tile's y / dy rows. With
// sparse != 0 a pixel whose taps are all zero gets no row (its products are
// exact zeros; the forward writes it relu(b) instead), so m ≤ n. Scratch:
// col is conv.ts's COL (T·SMALL_PIX floats ≤ 16 KiB), the lists 1.5 KiB.

export const SMALL_T: i32 = 32;
export const SMALL_PIX: i32 = 128;
// Variables so that each thread of the threads build has its own (threads.ts).
let TAPV: usize = memory.data(SMALL_T << 2, 16);
let TAPT: usize = memory.data(SMALL_T << 2, 16);
export let OFFX: usize = memory.data(SMALL_T << 2, 16);
export let PIXD: usize = memory.data(SMALL_PIX << 2, 16);
// Per output row of a tile of rows (windowsInside geometries): x at its first listed pixel, dy there, the pixel count.
export const RUN_ROWS: i32 = 32;
export let RUNS: usize = memory.data(RUN_ROWS * 12, 16);

/** Bytes of scratch setSmallScratch takes. */
export const SMALL_SCRATCH: i32 = ((3 * SMALL_T + SMALL_PIX) << 2) + RUN_ROWS * 12;

/** Points the tap and pixel lists at this thread's scratch (SMALL_SCRATCH bytes). */
export function setSmallScratch(p: usize): void {
  TAPV = p; TAPT = p + (<usize>SMALL_T << 2); OFFX = p + (<usize>(2 * SMALL_T) << 2); PIXD = p + (<usize>(3 * SMALL_T) << 2);
  RUNS = PIXD + (<usize>SMALL_PIX << 2);
}

/** Whether every window lies inside x (no padding taps): then the kernels read x in place, no gather. */
export function windowsInside(inH: i32, inW: i32, outH: i32, outW: i32, kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, pT: i32, pL: i32): bool {
  return pT == 0 && pL == 0 && (outH - 1) * sH + (kH - 1) * dH < inH && (outW - 1) * sW + (kW - 1) * dW < inW;
}

// The run of output columns nonzeroRun found: [RUN_LO, return value).
export let RUN_LO: i32 = 0;

/**
 * For output row oh of image img (windowsInside geometries): the columns
 * [RUN_LO, returned) whose windows may hold a nonzero input when sparse
 * (the others' windows are all zeros: from the first and last nonzero
 * input columns of the window's rows), else all of them.
 */
export function nonzeroRun(img: usize, oh: i32, inW: i32, inC: i32, outW: i32, kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, sparse: i32): i32 {
  RUN_LO = 0;
  if (!sparse) return outW;
  const F = inW * inC;
  let first = F, last = -1;
  for (let kh = 0; kh < kH; kh++) {
    const row = img + (<usize>((oh * sH + kh * dH) * F) << 2);
    let f = 0;
    while (f < first && (load<u32>(row + (<usize>f << 2)) << 1) == 0) f++;
    if (f >= F) continue;
    first = min(first, f);
    let l = F - 1;
    while (l > last && (load<u32>(row + (<usize>l << 2)) << 1) == 0) l--;
    last = max(last, l);
  }
  if (last < 0) return 0;
  // Input columns; window ow spans columns ow·sW … ow·sW + (kW−1)·dW.
  const cmin = first / inC, cmax = last / inC, reach = (kW - 1) * dW;
  const num = cmin - reach;
  RUN_LO = num <= 0 ? 0 : (num + sW - 1) / sW;
  return min(outW, cmax / sW + 1);
}

/** Whether conv2dForwardSmall / conv2dBackwardWeightsSmall handle this geometry. */
export function smallConv(T: i32, outC: i32): bool {
  return T <= SMALL_T && (outC & 3) == 0;
}

/** OFFX[t] = the byte offset in x of tap t from its window's first tap (all taps inside). */
export function tapOffsets(inW: i32, inC: i32, kH: i32, kW: i32, dH: i32, dW: i32): void {
  let t = 0;
  for (let kh = 0; kh < kH; kh++) for (let kw = 0; kw < kW; kw++) for (let ic = 0; ic < inC; ic++) {
    store<i32>(OFFX + (<usize>t << 2), ((kh * dH * inW + kw * dW) * inC + ic) << 2);
    t++;
  }
}

/**
 * Gathers output pixels p0 … p0+n−1 (pixel p = (b·outH + oh)·outW + ow) into
 * col and PIXD as the file comment says; tapOffsets must have run for this
 * geometry. Returns m, the rows written.
 */
export function gatherTile(
  x: usize, col: usize, p0: i32, n: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32, outC: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, pT: i32, pL: i32, sparse: i32,
): i32 {
  const T = kH * kW * inC, ts = <usize>T << 2;
  let ow = p0 % outW, r = p0 / outW;
  let oh = r % outH, b = r / outH;
  let m = 0, c = col;
  for (let q = 0; q < n; q++) {
    const ih0 = oh * sH - pT, iw0 = ow * sW - pL;
    const img = x + (<usize>(b * inH) * <usize>inW) * (<usize>inC << 2);
    let nz: u32 = 0;
    if (ih0 >= 0 && ih0 + (kH - 1) * dH < inH && iw0 >= 0 && iw0 + (kW - 1) * dW < inW) {
      // All inside: the taps at their fixed offsets from the window's first one.
      const org = img + ((<usize>ih0 * <usize>inW + <usize>iw0) * <usize>inC << 2);
      for (let k = 0; k < T; k++) {
        const v = load<u32>(org + <usize>load<i32>(OFFX + (<usize>k << 2)));
        store<u32>(c + (<usize>k << 2), v);
        nz |= v << 1; // << 1 drops the sign: −0 counts as a zero
      }
    } else {
      memory.fill(c, 0, ts);
      const taps = listTaps(img, ih0, iw0, inH, inW, inC, kH, kW, dH, dW);
      for (let k = 0; k < taps; k++) {
        const v = load<u32>(TAPV + (<usize>k << 2));
        store<u32>(c + (<usize>load<i32>(TAPT + (<usize>k << 2)) << 2), v);
        nz |= v << 1;
      }
    }
    store<i32>(PIXD + (<usize>m << 2), q * outC << 2);
    const keep = sparse ? i32(nz != 0) : 1;
    m += keep;
    c += <usize>keep * ts;
    if (++ow == outW) { ow = 0; if (++oh == outH) { oh = 0; b++; } }
  }
  return m;
}

/** TAPV / TAPT = the values and tap indices of the window's taps inside x (the padding left out); returns their count. */
function listTaps(img: usize, ih0: i32, iw0: i32, inH: i32, inW: i32, inC: i32, kH: i32, kW: i32, dH: i32, dW: i32): i32 {
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
        store<f32>(TAPV + (<usize>n << 2), load<f32>(src + (<usize>ic << 2)));
        store<i32>(TAPT + (<usize>n << 2), t);
        n++; t++;
      }
    }
  }
  return n;
}
