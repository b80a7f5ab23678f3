// Max pooling 2×2 with stride 2 and no padding, channels a multiple of 4
// (the Keras convnet's pools): the same numbers as pool.ts's general loops
// (the same f32x4.max order forward; backward the same running maximum,
// the first maximum in row-major order winning ties, each position storing
// dy in the lanes it holds the maximum of), with the window's four rows of
// channels read through four pointers and no per-position index arithmetic.
// An odd last input row or column (outside every window) gets dx = 0.

/** Whether maxPool2d2x2 / maxPool2dBackward2x2 take this geometry. */
export function pool2x2(inH: i32, inW: i32, outH: i32, outW: i32, kH: i32, kW: i32, sH: i32, sW: i32, pT: i32, pL: i32, C: i32): bool {
  return kH == 2 && kW == 2 && sH == 2 && sW == 2 && pT == 0 && pL == 0 && (C & 3) == 0 && 2 * outH <= inH && 2 * outW <= inW;
}

export function maxPool2d2x2(x: usize, y: usize, B: i32, inH: i32, inW: i32, outH: i32, outW: i32, C: i32): void {
  const cs = <usize>C << 2, rs = <usize>inW * cs;
  let yo = y;
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < outH; oh++) {
      let p = x + (<usize>(b * inH + 2 * oh) * <usize>inW) * cs;
      for (let ow = 0; ow < outW; ow++) {
        const e = p + cs;
        for (let c: usize = 0; c < cs; c += 16) {
          const m = f32x4.max(f32x4.max(v128.load(p + c), v128.load(e + c)), v128.load(p + rs + c));
          v128.store(yo + c, f32x4.max(m, v128.load(e + rs + c)));
        }
        p += 2 * cs; yo += cs;
      }
    }
  }
}

export function maxPool2dBackward2x2(dy: usize, x: usize, dx: usize, B: i32, inH: i32, inW: i32, outH: i32, outW: i32, C: i32): void {
  const cs = <usize>C << 2, rs = <usize>inW * cs;
  if (2 * outH < inH || 2 * outW < inW) memory.fill(dx, 0, <usize>(B * inH * inW) * cs);
  let go = dy;
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < outH; oh++) {
      const row = (<usize>(b * inH + 2 * oh) * <usize>inW) * cs;
      let p = x + row, d = dx + row;
      for (let ow = 0; ow < outW; ow++) {
        for (let c: usize = 0; c < cs; c += 16) {
          const v00 = v128.load(p + c), v01 = v128.load(p + cs + c), v10 = v128.load(p + rs + c), v11 = v128.load(p + rs + cs + c);
          // The running maximum in row-major order; a later position takes it only when strictly greater.
          const g1 = f32x4.gt(v01, v00);
          const m1 = v128.bitselect(v01, v00, g1);
          const g2 = f32x4.gt(v10, m1);
          const g3 = f32x4.gt(v11, v128.bitselect(v10, m1, g2));
          const g = v128.load(go + c);
          // Owner of each lane: the last position that took the maximum.
          const k11 = g3, k10 = v128.andnot(g2, g3), k01 = v128.andnot(g1, v128.or(g2, g3));
          const k00 = v128.not(v128.or(g1, v128.or(g2, g3)));
          v128.store(d + c, v128.and(g, k00));
          v128.store(d + cs + c, v128.and(g, k01));
          v128.store(d + rs + c, v128.and(g, k10));
          v128.store(d + rs + cs + c, v128.and(g, k11));
        }
        p += 2 * cs; d += 2 * cs; go += cs;
      }
    }
  }
}
