// The geometry that conv and pooling op records carry, and TensorFlow's
// output-size and padding arithmetic (channels_last / NHWC throughout):
//   x [B, inH, inW, inC] → y [B, outH, outW, outC]
// "valid": out = ceil((in − (k − 1)·dilation) / stride), no padding.
// "same":  out = ceil(in / stride); total padding
//          max((out − 1)·stride + (k − 1)·dilation + 1 − in, 0),
//          with the smaller half on top/left (TF puts the odd one bottom/right).
// Browser-safe.

export type Padding = 'valid' | 'same';

export interface Window2d {
  inH: number; inW: number;
  outH: number; outW: number;
  /** Window (kernel or pool) size. */
  kH: number; kW: number;
  strideH: number; strideW: number;
  dilationH: number; dilationW: number;
  /** Zero (conv) or excluded (pool) rows/columns before the input. */
  padTop: number; padLeft: number;
}

/** One spatial axis: output size and the padding before it. */
export function axis(size: number, k: number, stride: number, dilation: number, padding: Padding): { out: number; padBefore: number } {
  const span = (k - 1) * dilation + 1;
  if (padding === 'valid') return { out: Math.max(0, Math.ceil((size - span + 1) / stride)), padBefore: 0 };
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + span - size, 0);
  return { out, padBefore: Math.floor(total / 2) };
}

/** The window geometry of a conv or pool over an input of inH × inW. */
export function window2d(inH: number, inW: number, k: [number, number], stride: [number, number], dilation: [number, number], padding: Padding): Window2d {
  const h = axis(inH, k[0], stride[0], dilation[0], padding);
  const w = axis(inW, k[1], stride[1], dilation[1], padding);
  return {
    inH, inW, outH: h.out, outW: w.out, kH: k[0], kW: k[1],
    strideH: stride[0], strideW: stride[1], dilationH: dilation[0], dilationW: dilation[1],
    padTop: h.padBefore, padLeft: w.padBefore,
  };
}

/** Two 16-bit values in one i32 record word (wasm records have 15 words). */
export const pack16 = (hi: number, lo: number): number => ((hi & 0xffff) << 16) | (lo & 0xffff);
