// parts/pool_window.wgsl — shared part (not a kernel) of the 2-D pooling
// kernels average_pool2d, max_pool2d, their _backward and
// max_pool2d_backward_vec4, pulled in by their
// `// uses: pool_window` line (src/runtime/webgpu/kernels.ts). Tensors are
// channels_last: x and dx [rows, IN_H, IN_W, CHANNELS], y and dy
// [rows, OUT_H, OUT_W, CHANNELS]. Window (oh, ow) starts at
// (oh·STRIDE_H − PAD_TOP, ow·STRIDE_W − PAD_LEFT), spans K_H × K_W and is
// clipped to the input ("same" padding is never part of a window).
//
// Declares the overrides IN_H, IN_W, OUT_H, OUT_W, K_H, K_W, STRIDE_H,
// STRIDE_W, PAD_TOP, PAD_LEFT, CHANNELS, and:
//   pool_span(o, stride, pad, k, size)  input rows (or columns) [start, end)
//                                       of window o along one axis, clipped
//   pool_element(i, height, width)      element i of a [rows, height, width,
//                                       CHANNELS] tensor as (b, h, w, c)
//   pool_window_of(i)    output element i's window (PoolWindow)
//   pool_windows_over(i) the windows containing input element i (PoolCover)
//   pool_out_index(b, oh, ow, c)  the index of an output element
// No bindings: the kernels declare their own.
override IN_H: u32;
override IN_W: u32;
override OUT_H: u32;
override OUT_W: u32;
override K_H: u32;
override K_W: u32;
override STRIDE_H: u32;
override STRIDE_W: u32;
override PAD_TOP: u32;
override PAD_LEFT: u32;
override CHANNELS: u32;

fn pool_span(o: i32, stride: u32, pad: u32, k: u32, size: u32) -> vec2<i32> {
  let s = o * i32(stride) - i32(pad);
  return vec2<i32>(max(s, 0), min(s + i32(k), i32(size)));
}

// Window rows h0 … h1 − 1, columns w0 … w1 − 1 (empty when h0 ≥ h1 or
// w0 ≥ w1); xb: the index in x of (row b, 0, 0, channel c).
struct PoolWindow {
  xb: u32,
  h0: u32,
  h1: u32,
  w0: u32,
  w1: u32,
}

// Element i of a [rows, height, width, CHANNELS] tensor: (b, h, w, c).
fn pool_element(i: u32, height: u32, width: u32) -> vec4<u32> {
  let pix = i / CHANNELS;
  return vec4<u32>(pix / (width * height), (pix / width) % height, pix % width, i % CHANNELS);
}

fn pool_window_of(i: u32) -> PoolWindow {
  let at = pool_element(i, OUT_H, OUT_W);
  let hs = pool_span(i32(at.y), STRIDE_H, PAD_TOP, K_H, IN_H);
  let ws = pool_span(i32(at.z), STRIDE_W, PAD_LEFT, K_W, IN_W);
  return PoolWindow(at.x * IN_H * IN_W * CHANNELS + at.w, u32(hs.x), u32(hs.y), u32(ws.x), u32(ws.y));
}

// Input element (b, ih, iw, c), xb: the index in x of (b, 0, 0, c); the
// windows containing it: rows oh0 … oh1 and columns ow0 … ow1, inclusive.
struct PoolCover {
  b: u32,
  c: u32,
  ih: i32,
  iw: i32,
  xb: u32,
  oh0: i32,
  oh1: i32,
  ow0: i32,
  ow1: i32,
}

fn pool_windows_over(i: u32) -> PoolCover {
  let at = pool_element(i, IN_H, IN_W);
  let ih = i32(at.y);
  let iw = i32(at.z);
  // Windows oh with oh·S − P ≤ ih < oh·S − P + K: ⌈(ih + P − K + 1)/S⌉ … ⌊(ih + P)/S⌋.
  let th = ih + i32(PAD_TOP);
  let tw = iw + i32(PAD_LEFT);
  return PoolCover(at.x, at.w, ih, iw, at.x * IN_H * IN_W * CHANNELS + at.w,
    max(th - i32(K_H) + i32(STRIDE_H), 0) / i32(STRIDE_H), min(th / i32(STRIDE_H), i32(OUT_H) - 1),
    max(tw - i32(K_W) + i32(STRIDE_W), 0) / i32(STRIDE_W), min(tw / i32(STRIDE_W), i32(OUT_W) - 1));
}

fn pool_out_index(b: u32, oh: i32, ow: i32, c: u32) -> u32 {
  return ((b * OUT_H + u32(oh)) * OUT_W + u32(ow)) * CHANNELS + c;
}
