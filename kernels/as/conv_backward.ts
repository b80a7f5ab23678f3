// conv2d backward: dX (conv2d_backward_input) and dW, db
// (conv2d_backward_weights), on the im2col tiles and static scratch of
// kernels/as/conv.ts (see its header for the memory cost), both at the
// speed of dense's SIMD gemm:
//   dX: per tile of output pixels, dcol[P × T] = dy[P × outC] · wᵀ (wᵀ is
//       a transposed copy of w in AUX, made once per call, in chunks of
//       whole taps when all of it does not fit), then col2im adds dcol into
//       dx; then the ReLU mask of the layer below.
//   dW: per tile, the transposed im2col colᵀ [T × P] (4 pixels at a time
//       through AUX and 4×4 SIMD transposes, so the gemm's A rows run along
//       the pixels), then dw[T × outC] += colᵀ · dy (into AUX, then added),
//       rows of dw in chunks that fit AUX (past 4·T > AUX, plain im2col read
//       transposed through the gemm's strides). db = the column sums of dy.
// Geometries past the scratch (one tap's inC·outC > 32768 floats, or T >
// 65536) take scalar direct loops; short windows (T ≤ 32) dW's loops in
// conv_small.ts.
import { gemm, columnSumsStrided, EPI_NONE } from './dense';
import { COL, AUX, COL_FLOATS, AUX_FLOATS, im2col, tilePixels, zeroFloats } from './conv';
import { smallConv, conv2dBackwardWeightsSmall } from './conv_small';

/** dst[j, i] = src[i, j] for the rows r0 … r0+rows−1 of src [R × C]: dst is [C × rows]. */
function transposeRows(src: usize, dst: usize, r0: i32, rows: i32, C: i32): void {
  for (let i = 0; i < rows; i++) {
    const s = src + (<usize>((r0 + i) * C) << 2);
    for (let j = 0; j < C; j++) store<f32>(dst + (<usize>(j * rows + i) << 2), load<f32>(s + (<usize>j << 2)));
  }
}

/** dx += col2im(dcol): dcol [n × Tc] holds the taps tap0 … tap0+Tc/inC−1 of pixels p0 …. */
function col2imAdd(
  dcol: usize, dx: usize, p0: i32, n: i32, tap0: i32, taps: i32,
  inH: i32, inW: i32, inC: i32, outH: i32, outW: i32,
  kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, pT: i32, pL: i32,
): void {
  let ow = p0 % outW, t = p0 / outW;
  let oh = t % outH, b = t / outH;
  const Tc = taps * inC;
  let src = dcol;
  for (let q = 0; q < n; q++) {
    const img = dx + (<usize>(b * inH) * <usize>inW) * (<usize>inC << 2);
    for (let k = 0; k < taps; k++) {
      const tap = tap0 + k, kh = tap / kW, kw = tap % kW;
      const ih = oh * sH + kh * dH - pT, iw = ow * sW + kw * dW - pL;
      if (ih < 0 || ih >= inH || iw < 0 || iw >= inW) continue;
      const d = img + (<usize>((ih * inW + iw) * inC) << 2), s = src + (<usize>(k * inC) << 2);
      let i = 0;
      for (; i + 4 <= inC; i += 4) {
        const o = <usize>i << 2;
        v128.store(d + o, f32x4.add(v128.load(d + o), v128.load(s + o)));
      }
      for (; i < inC; i++) {
        const o = <usize>i << 2;
        store<f32>(d + o, load<f32>(d + o) + load<f32>(s + o));
      }
    }
    src += <usize>Tc << 2;
    if (++ow == outW) { ow = 0; if (++oh == outH) { oh = 0; b++; } }
  }
}

/** dx = dL/dx for dy and w, 0 where reluOut <= 0 (reluOut may be 0); see the file comment. */
export function conv2dBackwardInput(
  dy: usize, w: usize, dx: usize, reluOut: usize,
  B: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32, outC: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, pT: i32, pL: i32,
): void {
  const taps = kH * kW, P = B * outH * outW, X = B * inH * inW * inC;
  const cs = <usize>outC << 2;
  zeroFloats(dx, X);
  const tapsPerChunk = min(taps, AUX_FLOATS / (inC * outC));
  if (tapsPerChunk < 1 || inC > COL_FLOATS) {
    conv2dBackwardInputDirect(dy, w, dx, B, inH, inW, inC, outH, outW, outC, kH, kW, sH, sW, dH, dW, pT, pL);
  } else {
    for (let tap0 = 0; tap0 < taps; tap0 += tapsPerChunk) {
      const nt = min(tapsPerChunk, taps - tap0), Tc = nt * inC;
      // wᵀ of this chunk's rows of w [T × outC]: AUX is [outC × Tc].
      transposeRows(w, AUX, tap0 * inC, Tc, outC);
      const tile = tilePixels(Tc, P);
      for (let p0 = 0; p0 < P; p0 += tile) {
        const n = min(tile, P - p0);
        gemm(dy + <usize>p0 * cs, cs, 4, AUX, <usize>Tc << 2, COL, <usize>Tc << 2, n, Tc, outC, 0, EPI_NONE, 0, 0, 0);
        col2imAdd(COL, dx, p0, n, tap0, nt, inH, inW, inC, outH, outW, kW, sH, sW, dH, dW, pT, pL);
      }
    }
  }
  if (reluOut) {
    let i = 0;
    for (; i + 4 <= X; i += 4) {
      const o = <usize>i << 2;
      v128.store(dx + o, v128.and(v128.load(dx + o), f32x4.gt(v128.load(reluOut + o), f32x4.splat(0))));
    }
    for (; i < X; i++) {
      const o = <usize>i << 2;
      if (!(load<f32>(reluOut + o) > 0)) store<f32>(dx + o, 0);
    }
  }
}

function conv2dBackwardInputDirect(
  dy: usize, w: usize, dx: usize,
  B: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32, outC: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, pT: i32, pL: i32,
): void {
  for (let b = 0; b < B; b++) for (let oh = 0; oh < outH; oh++) for (let ow = 0; ow < outW; ow++) {
    const yo = dy + (<usize>(((b * outH + oh) * outW + ow) * outC) << 2);
    for (let kh = 0; kh < kH; kh++) {
      const ih = oh * sH + kh * dH - pT;
      if (ih < 0 || ih >= inH) continue;
      for (let kw = 0; kw < kW; kw++) {
        const iw = ow * sW + kw * dW - pL;
        if (iw < 0 || iw >= inW) continue;
        const xo = dx + (<usize>(((b * inH + ih) * inW + iw) * inC) << 2);
        const wo = w + (<usize>((kh * kW + kw) * inC * outC) << 2);
        for (let ic = 0; ic < inC; ic++) {
          const wr = wo + (<usize>(ic * outC) << 2);
          let s: f32 = 0;
          for (let oc = 0; oc < outC; oc++) s += load<f32>(yo + (<usize>oc << 2)) * load<f32>(wr + (<usize>oc << 2));
          const o = xo + (<usize>ic << 2);
          store<f32>(o, load<f32>(o) + s);
        }
      }
    }
  }
}

/**
 * colT[t·n + q] = tap t of output pixel p0 + q: the transpose of im2col's
 * tile, built 4 pixels at a time (im2col into AUX, then 4×4 SIMD
 * transposes). Needs 4·T ≤ AUX_FLOATS.
 */
function im2colT(
  x: usize, colT: usize, p0: i32, n: i32,
  inH: i32, inW: i32, inC: i32, outH: i32, outW: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, pT: i32, pL: i32,
): void {
  const T = kH * kW * inC, ts = <usize>T << 2, ns = <usize>n << 2;
  const T4 = T & ~3;
  for (let q0 = 0; q0 < n; q0 += 4) {
    const nq = min(4, n - q0);
    im2col(x, AUX, p0 + q0, nq, inH, inW, inC, outH, outW, kH, kW, sH, sW, dH, dW, pT, pL);
    const d0 = colT + (<usize>q0 << 2);
    let t = 0;
    if (nq == 4) {
      for (; t < T4; t += 4) {
        const s = AUX + (<usize>t << 2), d = d0 + <usize>t * ns;
        const r0 = v128.load(s), r1 = v128.load(s + ts), r2 = v128.load(s + 2 * ts), r3 = v128.load(s + 3 * ts);
        const u0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), u1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
        const u2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5), u3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
        v128.store(d, v128.shuffle<f32>(u0, u2, 0, 1, 4, 5));
        v128.store(d + ns, v128.shuffle<f32>(u0, u2, 2, 3, 6, 7));
        v128.store(d + 2 * ns, v128.shuffle<f32>(u1, u3, 0, 1, 4, 5));
        v128.store(d + 3 * ns, v128.shuffle<f32>(u1, u3, 2, 3, 6, 7));
      }
    }
    for (; t < T; t++) {
      const d = d0 + <usize>t * ns;
      for (let q = 0; q < nq; q++) store<f32>(d + (<usize>q << 2), load<f32>(AUX + <usize>q * ts + (<usize>t << 2)));
    }
  }
}

/** dw = dL/dw (HWIO), db = column sums of dy (db may be 0); see the file comment. */
export function conv2dBackwardWeights(
  x: usize, dy: usize, dw: usize, db: usize,
  B: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32, outC: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, pT: i32, pL: i32,
  sparse: i32,
): void {
  conv2dBackwardWeightsColumns(x, dy, dw, db, B, inH, inW, inC, outH, outW, outC, kH, kW, sH, sW, dH, dW, pT, pL, sparse, 0, outC);
}

/** Whether conv2dBackwardWeightsColumns may split this geometry's output channels (the im2col path; short windows split by taps). */
export function convWeightsSplittable(T: i32, outC: i32): bool {
  return !smallConv(T, outC) && T <= COL_FLOATS && AUX_FLOATS / outC >= 1;
}

/**
 * The output channels c0 … c1−1 of dw and db (a thread's share: c0 and c1
 * multiples of 8, or c1 = outC). Every element sums the same terms in the
 * same order (pixel tiles ascending, then pixels) whatever the share.
 */
export function conv2dBackwardWeightsColumns(
  x: usize, dy: usize, dw: usize, db: usize,
  B: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32, outC: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, pT: i32, pL: i32,
  sparse: i32, c0: i32, c1: i32,
): void {
  const T = kH * kW * inC, P = B * outH * outW;
  const cs = <usize>outC << 2, ts = <usize>T << 2;
  const nc = c1 - c0, co = <usize>c0 << 2, ncs = <usize>nc << 2;
  if (smallConv(T, outC)) {
    // Short windows (T ≤ 32): kernels/as/conv_small.ts.
    // (Threads split this geometry by taps instead: kernels/as/threads.ts.)
    conv2dBackwardWeightsSmall(x, dy, dw, COL, B, inH, inW, inC, outH, outW, outC, kH, kW, sH, sW, dH, dW, pT, pL, sparse, 0, T);
    if (db) columnSumsStrided(dy, db, P, outC, cs);
    return;
  }
  const rowsPerChunk = min(T, AUX_FLOATS / outC);
  if (T > COL_FLOATS || rowsPerChunk < 1) {
    zeroFloats(dw, T * outC);
    conv2dBackwardWeightsDirect(x, dy, dw, B, inH, inW, inC, outH, outW, outC, kH, kW, sH, sW, dH, dW, pT, pL);
  } else {
    for (let t = 0; t < T; t++) zeroFloats(dw + <usize>t * cs + co, nc);
    const tile = tilePixels(T, P);
    // colᵀ [T × n] where 4 pixels' taps fit AUX: the gemm's A rows then run along the pixels, as in
    // the forward (A read down col's columns touches one cache line per 4 floats: ~15% slower).
    const transposed = 4 * T <= AUX_FLOATS;
    for (let p0 = 0; p0 < P; p0 += tile) {
      const n = min(tile, P - p0);
      const ns = <usize>n << 2;
      if (transposed) im2colT(x, COL, p0, n, inH, inW, inC, outH, outW, kH, kW, sH, sW, dH, dW, pT, pL);
      else im2col(x, COL, p0, n, inH, inW, inC, outH, outW, kH, kW, sH, sW, dH, dW, pT, pL);
      for (let r0 = 0; r0 < T; r0 += rowsPerChunk) {
        const R = min(rowsPerChunk, T - r0);
        // AUX[R × nc] = col[:, r0 … r0+R)ᵀ · dy[p0 … p0+n, c0 … c1): A(r, t) = colᵀ[(r0 + r)·n + t] (or col[t·T + r0 + r]).
        if (transposed) gemm(COL + <usize>r0 * ns, ns, 4, dy + <usize>p0 * cs + co, cs, AUX, ncs, R, nc, n, 0, EPI_NONE, 0, 0, sparse);
        else gemm(COL + (<usize>r0 << 2), 4, ts, dy + <usize>p0 * cs + co, cs, AUX, ncs, R, nc, n, 0, EPI_NONE, 0, 0, sparse);
        for (let r = 0; r < R; r++) {
          const d = dw + <usize>(r0 + r) * cs + co, a = AUX + <usize>r * ncs;
          let i = 0;
          for (; i + 4 <= nc; i += 4) {
            const o = <usize>i << 2;
            v128.store(d + o, f32x4.add(v128.load(d + o), v128.load(a + o)));
          }
          for (; i < nc; i++) {
            const o = <usize>i << 2;
            store<f32>(d + o, load<f32>(d + o) + load<f32>(a + o));
          }
        }
      }
    }
  }
  if (db) columnSumsStrided(dy + co, db + co, P, nc, cs);
}

function conv2dBackwardWeightsDirect(
  x: usize, dy: usize, dw: usize,
  B: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32, outC: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, pT: i32, pL: i32,
): void {
  for (let b = 0; b < B; b++) for (let oh = 0; oh < outH; oh++) for (let ow = 0; ow < outW; ow++) {
    const yo = dy + (<usize>(((b * outH + oh) * outW + ow) * outC) << 2);
    for (let kh = 0; kh < kH; kh++) {
      const ih = oh * sH + kh * dH - pT;
      if (ih < 0 || ih >= inH) continue;
      for (let kw = 0; kw < kW; kw++) {
        const iw = ow * sW + kw * dW - pL;
        if (iw < 0 || iw >= inW) continue;
        const xo = x + (<usize>(((b * inH + ih) * inW + iw) * inC) << 2);
        const wo = dw + (<usize>((kh * kW + kw) * inC * outC) << 2);
        for (let ic = 0; ic < inC; ic++) {
          const xv = load<f32>(xo + (<usize>ic << 2));
          const wr = wo + (<usize>(ic * outC) << 2);
          for (let oc = 0; oc < outC; oc++) {
            const o = wr + (<usize>oc << 2);
            store<f32>(o, load<f32>(o) + xv * load<f32>(yo + (<usize>oc << 2)));
          }
        }
      }
    }
  }
}
