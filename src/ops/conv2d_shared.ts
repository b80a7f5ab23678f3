// What the three conv2d ops (conv2d_forward, conv2d_backward_input,
// conv2d_backward_weights) share: the geometry their records carry, how it
// travels in a wasm record (pairs packed with pack16, so each record fits
// the 15 words after its op code), the WGSL override constants, and the
// bench dims.
//
// Layout everywhere: x [B, inH, inW, inC] and y [B, outH, outW, outC]
// (NHWC, channels_last), the kernel w [kH, kW, inC, outC] (HWIO, Keras),
// so w is also the row-major [kH·kW·inC × outC] matrix an im2col row
// multiplies.
//
// Bench dims (12 numbers; `tessera bench --op conv2d_* --model …` takes
// them from the graph):
//   [B, H, W, inC, outC, kH, kW, strideH, strideW, dilationH, dilationW, same]
// with same = 1 for "same" padding, 0 for "valid". `--shape M,K,N` reads M
// as the batch, K as the floats per image (H·W·inC: the first of the
// common channel counts 1, 3, 32, 64, 16, 8, 128, 256, 4, 2 that leaves a
// square H = W ≥ 3, so 784 is 28×28×1 and 5408 is 13×13×32; a K with no
// such split is the side of a K×K×2 input) and N as outC, with a
// 3×3 window, stride 1, "valid" padding when K split and "same" otherwise.

import { window2d, pack16, type Window2d } from './conv-geometry.js';
import type { Constants, WasmFieldType } from './types.js';

/** The geometry of a conv record: the window and both channel counts. */
export interface Conv2dGeometry extends Window2d {
  inC: number;
  outC: number;
}

/** Record words 1… after the op's own pointers: the geometry, two 16-bit values per word (hi, lo). */
export const GEOMETRY_FIELDS: readonly (readonly [string, WasmFieldType])[] = [
  ['inHW', 'i32'], ['outHW', 'i32'], ['kHW', 'i32'], ['strideHW', 'i32'], ['dilationHW', 'i32'], ['padTL', 'i32'], ['inC', 'i32'], ['outC', 'i32'],
];

/** The AssemblyScript parameters after the op's pointers: the batch rows, then the geometry unpacked. */
export const GEOMETRY_PARAMS: readonly (readonly [string, 'i32'])[] = [
  ['B', 'i32'], ['inH', 'i32'], ['inW', 'i32'], ['inC', 'i32'], ['outH', 'i32'], ['outW', 'i32'], ['outC', 'i32'],
  ['kH', 'i32'], ['kW', 'i32'], ['strideH', 'i32'], ['strideW', 'i32'], ['dilationH', 'i32'], ['dilationW', 'i32'], ['padTop', 'i32'], ['padLeft', 'i32'],
];

const hi = (f: string) => `({${f}} >>> 16)`;
const lo = (f: string) => `({${f}} & 0xffff)`;
/** The call's arguments for GEOMETRY_PARAMS (the generated dispatch unpacks each pair). */
export const GEOMETRY_ARGS = [
  'rows', hi('inHW'), lo('inHW'), '{inC}', hi('outHW'), lo('outHW'), '{outC}',
  hi('kHW'), lo('kHW'), hi('strideHW'), lo('strideHW'), hi('dilationHW'), lo('dilationHW'), hi('padTL'), lo('padTL'),
].join(', ');

/** Sizes that fit a 16-bit half of a record word. */
export function encodeGeometry(g: Conv2dGeometry): number[] {
  for (const v of [g.inH, g.inW, g.outH, g.outW, g.kH, g.kW, g.strideH, g.strideW, g.dilationH, g.dilationW, g.padTop, g.padLeft]) {
    if (!(v >= 0 && v < 65536)) throw new Error(`conv2d geometry value ${v} does not fit the wasm record's 16 bits`);
  }
  return [
    pack16(g.inH, g.inW), pack16(g.outH, g.outW), pack16(g.kH, g.kW), pack16(g.strideH, g.strideW),
    pack16(g.dilationH, g.dilationW), pack16(g.padTop, g.padLeft), g.inC, g.outC,
  ];
}

/** The WGSL override constants of every conv kernel. */
export function geometryConstants(g: Conv2dGeometry): Constants {
  return {
    IN_H: g.inH, IN_W: g.inW, IN_C: g.inC, OUT_H: g.outH, OUT_W: g.outW, OUT_C: g.outC,
    K_H: g.kH, K_W: g.kW, STRIDE_H: g.strideH, STRIDE_W: g.strideW, DIL_H: g.dilationH, DIL_W: g.dilationW, PAD_T: g.padTop, PAD_L: g.padLeft,
  };
}
export const GEOMETRY_OVERRIDES = Object.keys(geometryConstants({ inH: 0, inW: 0, outH: 0, outW: 0, kH: 0, kW: 0, strideH: 0, strideW: 0, dilationH: 0, dilationW: 0, padTop: 0, padLeft: 0, inC: 0, outC: 0 }));

export const CONV_SHAPE = 'B,H,W,inC,outC,kH,kW,strideH,strideW,dilationH,dilationW,same';

/** The geometry of bench dims. */
export function geometryOf(dims: readonly number[]): { B: number; g: Conv2dGeometry } {
  const [B, H, W, inC, outC, kH, kW, sH, sW, dH, dW, same] = dims as number[];
  const win = window2d(H!, W!, [kH!, kW!], [sH!, sW!], [dH!, dW!], same ? 'same' : 'valid');
  return { B: B!, g: { ...win, inC: inC!, outC: outC! } };
}

/** The bench dims of a record's geometry ("same" when TF's same arithmetic gives exactly its output size and padding). */
export function dimsOf(g: Conv2dGeometry, B: number): number[] {
  const is = (p: 'valid' | 'same') => {
    const w = window2d(g.inH, g.inW, [g.kH, g.kW], [g.strideH, g.strideW], [g.dilationH, g.dilationW], p);
    return w.outH === g.outH && w.outW === g.outW && w.padTop === g.padTop && w.padLeft === g.padLeft;
  };
  // Where both match (a 1×1 window) the two compute the same thing.
  const same = is('valid') ? 0 : is('same') ? 1 : -1;
  if (same < 0) throw new Error(`conv2d geometry ${JSON.stringify(g)} is neither TF "valid" nor "same"`);
  return [B, g.inH, g.inW, g.inC, g.outC, g.kH, g.kW, g.strideH, g.strideW, g.dilationH, g.dilationW, same];
}

/** The channel counts `--shape` tries for K, most common first. */
const MKN_CHANNELS = [1, 3, 32, 64, 16, 8, 128, 256, 4, 2];

/** `--shape M,K,N`: see the file comment. */
export function dimsFromMKN([M, K, N]: readonly [number, number, number]): number[] {
  for (const c of MKN_CHANNELS) {
    if (K % c || K / c < 9) continue;
    const s = Math.round(Math.sqrt(K / c));
    if (s * s * c === K) return [M, s, s, c, N, 3, 3, 1, 1, 1, 1, 0];
  }
  return [M, K, K, 2, N, 3, 3, 1, 1, 1, 1, 1];
}

/** FLOP of the multiply-adds over every valid (unpadded) tap, as conv libraries count: 2·B·outH·outW·kH·kW·inC·outC. */
export function convFlops(B: number, g: Conv2dGeometry): number {
  return 2 * B * g.outH * g.outW * g.kH * g.kW * g.inC * g.outC;
}

export const sizes = (B: number, g: Conv2dGeometry) => ({
  x: B * g.inH * g.inW * g.inC, y: B * g.outH * g.outW * g.outC, w: g.kH * g.kW * g.inC * g.outC,
});

/**
 * The conformance suite's awkward geometries (batch ≤ 4): the first three
 * are also the WebGPU ones (pipelines compile per shape on llvmpipe), so
 * they hold stride 2 with odd "same" totals, a 5×5 window, dilation 2, and
 * channel counts that take each WGSL variant (src/ops/conv-grid.ts): the
 * first the direct kernels (outC 6), the second the vec4 ones (inC 16,
 * outC 8), the third the blocked forward with scalar x (inC 3) and an odd
 * count of vec4 channel groups (outC 12); no pixel count is a multiple of 8.
 */
export const CONV_CASES: readonly (readonly number[])[] = [
  [1, 9, 8, 2, 6, 3, 3, 2, 2, 1, 1, 1], // batch 1, stride 2, "same": totals 2 (H) and 1 (W, odd)
  [2, 10, 7, 16, 8, 5, 5, 2, 1, 1, 1, 1], // 5×5, "same": totals 3 (H, odd, stride 2) and 4 (W)
  [2, 11, 10, 3, 12, 3, 3, 1, 1, 2, 2, 0], // dilation 2, "valid", odd sizes
  [2, 7, 5, 3, 5, 3, 3, 1, 1, 1, 1, 0], // odd sizes, "valid"
  [3, 6, 5, 4, 8, 1, 1, 1, 1, 1, 1, 0], // 1×1
  [2, 8, 9, 5, 7, 1, 1, 2, 2, 1, 1, 0], // 1×1 stride 2
  [1, 12, 11, 3, 9, 3, 2, 2, 1, 2, 1, 1], // mixed window, stride, dilation, "same"
  [2, 9, 9, 3, 4, 5, 5, 1, 1, 1, 1, 0], // 5×5 "valid"
  [4, 28, 28, 1, 32, 3, 3, 1, 1, 1, 1, 0], // the MNIST convnet's first conv
  [4, 13, 13, 32, 64, 3, 3, 1, 1, 1, 1, 0], // and its second (im2col rows span several tiles)
  [2, 9, 7, 3, 20, 3, 3, 2, 1, 1, 1, 1], // short window (conv_small) with padding: the gathered path, 16 + 4 channels
  [2, 10, 9, 2, 20, 3, 3, 1, 1, 2, 2, 0], // short window read in place with dilation 2, 16 + 4 channels
  [2, 13, 12, 1, 20, 5, 5, 2, 2, 2, 2, 0], // one input channel, stride = dilation 2: dW's kernel-row blocks (3 + 2 taps, 8·2 + 4 channels)
  [3, 9, 10, 1, 12, 3, 3, 2, 1, 1, 1, 0], // one input channel, stride 2 ≠ dilation 1: dW's tap pairs
];
