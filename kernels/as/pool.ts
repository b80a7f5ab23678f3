// Pooling kernels, channels_last (NHWC): the windowed max and average pools
// and their backward ops, and the global pools over hw = H·W positions.
// src/ops/pool-reference.ts is the definition; pointers are byte offsets.
//
// Every loop runs over channels innermost, four at a time (f32x4: adjacent
// channels of one position are contiguous), with a scalar tail for C % 4.
// Windows are clipped to the input, so "same" padding is never a maximum
// and never counted in an average. The backward ops zero dx and then add
// each window's share into it (scatter): the wasm backend is one thread,
// so overlapping windows accumulate without races, and each window is read
// once (the gather form the WebGPU kernels need reads it per input element).
//
// Max-pool ties: the first maximum in row-major window order, as
// TensorFlow; per lane, a later element replaces the running maximum only
// when strictly greater, and its flat position is selected the same way.
// 2×2 pools with stride 2 take pool_2x2.ts (the same numbers, fewer instructions).

import { pool2x2, maxPool2d2x2, maxPool2dBackward2x2 } from './pool_2x2';

// @ts-ignore: decorator
@inline function off(i: i32): usize {
  return <usize>i << 2;
}

// The forward pools accumulate in y's row: the window's first position is
// copied there, then each further position is folded in by one contiguous
// pass over the channels (no per-channel address arithmetic in the loop).
// @ts-ignore: decorator
@inline function maxInto(yo: usize, xo: usize, C: i32): void {
  let c = 0;
  for (; c + 4 <= C; c += 4) v128.store(yo + off(c), f32x4.max(v128.load(yo + off(c)), v128.load(xo + off(c))));
  for (; c < C; c++) store<f32>(yo + off(c), max(load<f32>(yo + off(c)), load<f32>(xo + off(c))));
}

// @ts-ignore: decorator
@inline function addInto(yo: usize, xo: usize, C: i32): void {
  let c = 0;
  for (; c + 4 <= C; c += 4) v128.store(yo + off(c), f32x4.add(v128.load(yo + off(c)), v128.load(xo + off(c))));
  for (; c < C; c++) store<f32>(yo + off(c), load<f32>(yo + off(c)) + load<f32>(xo + off(c)));
}

// Window o of an axis covers input rows (or columns) windowLo … windowHi − 1: it starts at o·stride − pad
// and is clipped to [0, size).
// @ts-ignore: decorator
@inline function windowLo(o: i32, stride: i32, pad: i32): i32 {
  return max(o * stride - pad, 0);
}

// @ts-ignore: decorator
@inline function windowHi(o: i32, stride: i32, pad: i32, k: i32, size: i32): i32 {
  return min(o * stride - pad + k, size);
}

// The windowed forward pools (an empty window gives 0): max folds each position with maxInto, average
// sums with addInto, then divides by the positions in the window. `average` is a constant at each
// (inlined) call, so each pool compiles to its own loop.
// @ts-ignore: decorator
@inline function windowPool(average: bool, x: usize, y: usize, B: i32, inH: i32, inW: i32, outH: i32, outW: i32, kH: i32, kW: i32,
  strideH: i32, strideW: i32, padTop: i32, padLeft: i32, C: i32): void {
  for (let b = 0; b < B; b++) {
    const xb = x + off(b * inH * inW * C);
    for (let oh = 0; oh < outH; oh++) {
      const h0 = windowLo(oh, strideH, padTop), h1 = windowHi(oh, strideH, padTop, kH, inH);
      for (let ow = 0; ow < outW; ow++) {
        const w0 = windowLo(ow, strideW, padLeft), w1 = windowHi(ow, strideW, padLeft, kW, inW);
        const yo = y + off(((b * outH + oh) * outW + ow) * C);
        if (h0 >= h1 || w0 >= w1) { memory.fill(yo, 0, off(C)); continue; }
        memory.copy(yo, xb + off((h0 * inW + w0) * C), off(C));
        for (let h = h0; h < h1; h++) {
          for (let w = h === h0 ? w0 + 1 : w0; w < w1; w++) {
            if (average) addInto(yo, xb + off((h * inW + w) * C), C);
            else maxInto(yo, xb + off((h * inW + w) * C), C);
          }
        }
        if (average) {
          const count = <f32>((h1 - h0) * (w1 - w0));
          const n4 = f32x4.splat(count);
          let c = 0;
          for (; c + 4 <= C; c += 4) v128.store(yo + off(c), f32x4.div(v128.load(yo + off(c)), n4));
          for (; c < C; c++) store<f32>(yo + off(c), load<f32>(yo + off(c)) / count);
        }
      }
    }
  }
}

export function maxPool2d(x: usize, y: usize, B: i32, inH: i32, inW: i32, outH: i32, outW: i32, kH: i32, kW: i32,
  strideH: i32, strideW: i32, padTop: i32, padLeft: i32, C: i32): void {
  if (pool2x2(inH, inW, outH, outW, kH, kW, strideH, strideW, padTop, padLeft, C)) { maxPool2d2x2(x, y, B, inH, inW, outH, outW, C); return; }
  windowPool(false, x, y, B, inH, inW, outH, outW, kH, kW, strideH, strideW, padTop, padLeft, C);
}

export function maxPool2dBackward(dy: usize, x: usize, dx: usize, B: i32, inH: i32, inW: i32, outH: i32, outW: i32, kH: i32, kW: i32,
  strideH: i32, strideW: i32, padTop: i32, padLeft: i32, C: i32): void {
  if (pool2x2(inH, inW, outH, outW, kH, kW, strideH, strideW, padTop, padLeft, C)) { maxPool2dBackward2x2(dy, x, dx, B, inH, inW, outH, outW, C); return; }
  // Disjoint windows (stride ≥ pool, the usual 2×2/2) store dx instead of adding to it, and windows that also
  // tile the whole input leave nothing to zero first: half the memory traffic of zero-then-accumulate.
  const disjoint = strideH >= kH && strideW >= kW;
  const tiles = strideH === kH && strideW === kW && outH * kH - padTop >= inH && outW * kW - padLeft >= inW;
  if (!tiles) memory.fill(dx, 0, off(B * inH * inW * C));
  for (let b = 0; b < B; b++) {
    const base = off(b * inH * inW * C);
    const xb = x + base, db = dx + base;
    for (let oh = 0; oh < outH; oh++) {
      const h0 = windowLo(oh, strideH, padTop), h1 = windowHi(oh, strideH, padTop, kH, inH);
      for (let ow = 0; ow < outW; ow++) {
        const w0 = windowLo(ow, strideW, padLeft), w1 = windowHi(ow, strideW, padLeft, kW, inW);
        if (h0 >= h1 || w0 >= w1) continue;
        const go = dy + off(((b * outH + oh) * outW + ow) * C);
        const p0 = h0 * inW + w0;
        let c = 0;
        for (; c + 4 <= C; c += 4) {
          // Pass 1: per lane, the running maximum and the flat position (h·inW + w) where it was first seen.
          let m = v128.load(xb + off(p0 * C + c));
          let at = i32x4.splat(p0);
          for (let h = h0; h < h1; h++) {
            for (let w = w0; w < w1; w++) {
              const p = h * inW + w;
              const v = v128.load(xb + off(p * C + c));
              const gt = f32x4.gt(v, m);
              m = v128.bitselect(v, m, gt);
              at = v128.bitselect(i32x4.splat(p), at, gt);
            }
          }
          // Pass 2: each position of the window adds dy in the lanes whose maximum it holds.
          const g = v128.load(go + off(c));
          for (let h = h0; h < h1; h++) {
            for (let w = w0; w < w1; w++) {
              const p = h * inW + w;
              const o = db + off(p * C + c);
              const share = v128.and(g, i32x4.eq(at, i32x4.splat(p)));
              v128.store(o, disjoint ? share : f32x4.add(v128.load(o), share));
            }
          }
        }
        for (; c < C; c++) {
          let best = p0;
          let m = load<f32>(xb + off(p0 * C + c));
          for (let h = h0; h < h1; h++) {
            for (let w = w0; w < w1; w++) {
              const p = h * inW + w;
              const v = load<f32>(xb + off(p * C + c));
              if (v > m) { m = v; best = p; }
            }
          }
          const g = load<f32>(go + off(c));
          if (disjoint) {
            for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) store<f32>(db + off((h * inW + w) * C + c), 0);
            store<f32>(db + off(best * C + c), g);
          } else {
            const o = db + off(best * C + c);
            store<f32>(o, load<f32>(o) + g);
          }
        }
      }
    }
  }
}

export function averagePool2d(x: usize, y: usize, B: i32, inH: i32, inW: i32, outH: i32, outW: i32, kH: i32, kW: i32,
  strideH: i32, strideW: i32, padTop: i32, padLeft: i32, C: i32): void {
  windowPool(true, x, y, B, inH, inW, outH, outW, kH, kW, strideH, strideW, padTop, padLeft, C);
}

export function averagePool2dBackward(dy: usize, dx: usize, B: i32, inH: i32, inW: i32, outH: i32, outW: i32, kH: i32, kW: i32,
  strideH: i32, strideW: i32, padTop: i32, padLeft: i32, C: i32): void {
  memory.fill(dx, 0, off(B * inH * inW * C));
  for (let b = 0; b < B; b++) {
    const db = dx + off(b * inH * inW * C);
    for (let oh = 0; oh < outH; oh++) {
      const h0 = windowLo(oh, strideH, padTop), h1 = windowHi(oh, strideH, padTop, kH, inH);
      for (let ow = 0; ow < outW; ow++) {
        const w0 = windowLo(ow, strideW, padLeft), w1 = windowHi(ow, strideW, padLeft, kW, inW);
        if (h0 >= h1 || w0 >= w1) continue;
        const count = <f32>((h1 - h0) * (w1 - w0));
        const n4 = f32x4.splat(count);
        const go = dy + off(((b * outH + oh) * outW + ow) * C);
        for (let h = h0; h < h1; h++) {
          for (let w = w0; w < w1; w++) {
            const o = db + off((h * inW + w) * C);
            let c = 0;
            for (; c + 4 <= C; c += 4) v128.store(o + off(c), f32x4.add(v128.load(o + off(c)), f32x4.div(v128.load(go + off(c)), n4)));
            for (; c < C; c++) store<f32>(o + off(c), load<f32>(o + off(c)) + load<f32>(go + off(c)) / count);
          }
        }
      }
    }
  }
}

/** y[b, c] = Σ_p x[b, p, c] / hw: y's row is the accumulator, positions read in order (contiguous). */
export function globalAveragePool2d(x: usize, y: usize, B: i32, hw: i32, C: i32): void {
  const n = <f32>hw;
  const n4 = f32x4.splat(n);
  for (let b = 0; b < B; b++) {
    const yo = y + off(b * C);
    memory.fill(yo, 0, off(C));
    for (let p = 0; p < hw; p++) addInto(yo, x + off((b * hw + p) * C), C);
    let c = 0;
    for (; c + 4 <= C; c += 4) v128.store(yo + off(c), f32x4.div(v128.load(yo + off(c)), n4));
    for (; c < C; c++) store<f32>(yo + off(c), load<f32>(yo + off(c)) / n);
  }
}

export function globalAveragePool2dBackward(dy: usize, dx: usize, B: i32, hw: i32, C: i32): void {
  const n = <f32>hw;
  const n4 = f32x4.splat(n);
  for (let b = 0; b < B; b++) {
    const go = dy + off(b * C);
    for (let p = 0; p < hw; p++) {
      const o = dx + off((b * hw + p) * C);
      let c = 0;
      for (; c + 4 <= C; c += 4) v128.store(o + off(c), f32x4.div(v128.load(go + off(c)), n4));
      for (; c < C; c++) store<f32>(o + off(c), load<f32>(go + off(c)) / n);
    }
  }
}

export function globalMaxPool2d(x: usize, y: usize, B: i32, hw: i32, C: i32): void {
  for (let b = 0; b < B; b++) {
    const yo = y + off(b * C);
    const xb = x + off(b * hw * C);
    memory.copy(yo, xb, off(C));
    for (let p = 1; p < hw; p++) maxInto(yo, xb + off(p * C), C);
  }
}

/** dx = dy at each channel's first maximum over p, else 0: a pass to find it, a pass to write dx. */
export function globalMaxPool2dBackward(dy: usize, x: usize, dx: usize, B: i32, hw: i32, C: i32): void {
  for (let b = 0; b < B; b++) {
    const xb = x + off(b * hw * C), db = dx + off(b * hw * C), go = dy + off(b * C);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      let m = v128.load(xb + off(c));
      let at = i32x4.splat(0);
      for (let p = 1; p < hw; p++) {
        const v = v128.load(xb + off(p * C + c));
        const gt = f32x4.gt(v, m);
        m = v128.bitselect(v, m, gt);
        at = v128.bitselect(i32x4.splat(p), at, gt);
      }
      const g = v128.load(go + off(c));
      for (let p = 0; p < hw; p++) v128.store(db + off(p * C + c), v128.and(g, i32x4.eq(at, i32x4.splat(p))));
    }
    for (; c < C; c++) {
      let best = 0;
      let m = load<f32>(xb + off(c));
      for (let p = 1; p < hw; p++) {
        const v = load<f32>(xb + off(p * C + c));
        if (v > m) { m = v; best = p; }
      }
      const g = load<f32>(go + off(c));
      for (let p = 0; p < hw; p++) store<f32>(db + off(p * C + c), p === best ? g : 0);
    }
  }
}
