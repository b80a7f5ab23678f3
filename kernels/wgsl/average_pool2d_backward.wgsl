// average_pool2d_backward.wgsl — dx = Σ dy / count over the windows that
// contain this input element, channels_last (count: the input elements in
// that window, clipped to the input, so "same" padding is not counted).
// Each invocation owns one dx element and scans the windows containing it
// (gather form: race-free where windows overlap, no atomics).
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows
//   1 dy    storage read  array<f32>  [rows × OUT_H × OUT_W × CHANNELS]
//   2 dx    storage rw    array<f32>  [rows × IN_H × IN_W × CHANNELS]
// Overrides: IN_H, IN_W, OUT_H, OUT_W, K_H, K_W, STRIDE_H, STRIDE_W,
// PAD_TOP, PAD_LEFT, CHANNELS.
// Dispatch: a 2-D grid of 64-invocation workgroups covering
// rows·IN_H·IN_W·CHANNELS elements of dx, one per invocation (prelude's
// flat_index).
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

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

// The number of input rows (or columns) in window o of an axis.
fn clipped(o: i32, stride: u32, pad: u32, k: u32, size: u32) -> i32 {
  let s = o * i32(stride) - i32(pad);
  return min(s + i32(k), i32(size)) - max(s, 0);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= ctx.rows * IN_H * IN_W * CHANNELS) {
    return;
  }
  let c = i % CHANNELS;
  let pix = i / CHANNELS;
  let iw = i32(pix % IN_W);
  let ih = i32((pix / IN_W) % IN_H);
  let b = pix / (IN_W * IN_H);
  // Windows oh with oh·S − P ≤ ih < oh·S − P + K: ⌈(ih + P − K + 1)/S⌉ … ⌊(ih + P)/S⌋.
  let th = ih + i32(PAD_TOP);
  let tw = iw + i32(PAD_LEFT);
  let oh0 = max(th - i32(K_H) + i32(STRIDE_H), 0) / i32(STRIDE_H);
  let oh1 = min(th / i32(STRIDE_H), i32(OUT_H) - 1);
  let ow0 = max(tw - i32(K_W) + i32(STRIDE_W), 0) / i32(STRIDE_W);
  let ow1 = min(tw / i32(STRIDE_W), i32(OUT_W) - 1);
  var acc = 0.0;
  for (var oh = oh0; oh <= oh1; oh = oh + 1) {
    let rows_in = clipped(oh, STRIDE_H, PAD_TOP, K_H, IN_H);
    for (var ow = ow0; ow <= ow1; ow = ow + 1) {
      let count = rows_in * clipped(ow, STRIDE_W, PAD_LEFT, K_W, IN_W);
      acc = acc + dy[((b * OUT_H + u32(oh)) * OUT_W + u32(ow)) * CHANNELS + c] / f32(count);
    }
  }
  dx[i] = acc;
}
