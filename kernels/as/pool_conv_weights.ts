// max_pool2d_backward then conv2d_backward_weights, one image chunk at a
// time: the wasm plan's fusion (src/runtime/wasm/fuse.ts) of a 2×2/2 max
// pool's backward with the dW and db of the conv below it, for smallConv
// geometries (the MNIST convnet's first conv: T = 9, outC = 32).
//
// Contract (NHWC, f32, byte offsets; B images):
//   dp  [B, outH/2, outW/2, outC]  the gradient of the pool's output (read)
//   y   [B, outH, outW, outC]      the conv's output, the pool's input (read)
//   dy  [B, outH, outW, outC]      written: the pool's dx, the conv's dy
//   x   [B, inH, inW, inC]         the conv's input (read)
//   dw  [kH, kW, inC, outC]        written: dL/dw (HWIO), summed over B
//   db  [outC] or 0                written: the pixel sums of dy
// Same numbers as the two records in turn: the pool's windows do not
// overlap, and dW and db add each chunk's pixels in ascending order onto
// the sums so far, the order one call over the batch adds them.
//
// Why: unfused, dy (11 MB at batch 128) is written whole and then streamed
// back from memory by dW, whose first pass over each tile waits on it. Per
// chunk of CHUNK images (173 KiB of dy), dW reads dy from cache just after
// the pool backward wrote it.
import { maxPool2dBackward } from './pool';
import { COL } from './conv';
import { conv2dBackwardWeightsSmallAdd } from './conv_small';
import { columnSumsStrided } from './dense';

/** Images per chunk: 2 (2 × 26×26×32 floats of dy) fit the L2 with dp, y and x; 1, 2 and 4 time alike. */
const CHUNK: i32 = 2;

export function maxPoolConvWeights(
  dp: usize, y: usize, dy: usize, x: usize, dw: usize, db: usize,
  B: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32, outC: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, pT: i32, pL: i32,
  sparse: i32,
): void {
  const T = kH * kW * inC, pH = outH >> 1, pW = outW >> 1;
  const yImage = <usize>(outH * outW * outC) << 2, pImage = <usize>(pH * pW * outC) << 2, xImage = <usize>(inH * inW * inC) << 2;
  const cs = <usize>outC << 2;
  memory.fill(dw, 0, <usize>T * cs);
  if (db) memory.fill(db, 0, cs);
  for (let b = 0; b < B; b += CHUNK) {
    const n = min(CHUNK, B - b), at = <usize>b;
    const dyc = dy + at * yImage;
    maxPool2dBackward(dp + at * pImage, y + at * yImage, dyc, n, outH, outW, pH, pW, 2, 2, 2, 2, 0, 0, outC);
    conv2dBackwardWeightsSmallAdd(x + at * xImage, dyc, dw, COL, n, inH, inW, inC, outH, outW, outC, kH, kW, sH, sW, dH, dW, pT, pL, sparse, 0, T);
    if (db) columnSumsStrided(dyc, db, n * outH * outW, outC, cs, true);
  }
}
