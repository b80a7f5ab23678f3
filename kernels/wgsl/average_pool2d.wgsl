// average_pool2d.wgsl — y = the mean of each pool window, channels_last:
// x [rows, IN_H, IN_W, CHANNELS] → y [rows, OUT_H, OUT_W, CHANNELS].
// Window (oh, ow) starts at (oh·STRIDE_H − PAD_TOP, ow·STRIDE_W − PAD_LEFT)
// and is clipped to the input: the mean is over the input elements in it
// ("same" padding is excluded from the count, as TensorFlow).
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows
//   1 x     storage read  array<f32>  [rows × IN_H × IN_W × CHANNELS]
//   2 y     storage rw    array<f32>  [rows × OUT_H × OUT_W × CHANNELS]
// Overrides: IN_H, IN_W, OUT_H, OUT_W, K_H, K_W, STRIDE_H, STRIDE_W,
// PAD_TOP, PAD_LEFT, CHANNELS.
// Dispatch: a 2-D grid of 64-invocation workgroups covering
// rows·OUT_H·OUT_W·CHANNELS outputs, one per invocation (prelude's
// flat_index); adjacent invocations read adjacent channels.
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

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= ctx.rows * OUT_H * OUT_W * CHANNELS) {
    return;
  }
  let c = i % CHANNELS;
  let pix = i / CHANNELS;
  let ow = i32(pix % OUT_W);
  let oh = i32((pix / OUT_W) % OUT_H);
  let b = pix / (OUT_W * OUT_H);
  let hs = oh * i32(STRIDE_H) - i32(PAD_TOP);
  let ws = ow * i32(STRIDE_W) - i32(PAD_LEFT);
  let h0 = u32(max(hs, 0));
  let h1 = u32(min(hs + i32(K_H), i32(IN_H)));
  let w0 = u32(max(ws, 0));
  let w1 = u32(min(ws + i32(K_W), i32(IN_W)));
  if (h0 >= h1 || w0 >= w1) {
    y[i] = 0.0;
    return;
  }
  let xb = b * IN_H * IN_W * CHANNELS + c;
  var s = 0.0;
  for (var h = h0; h < h1; h = h + 1u) {
    for (var w = w0; w < w1; w = w + 1u) {
      s = s + x[xb + (h * IN_W + w) * CHANNELS];
    }
  }
  y[i] = s / f32((h1 - h0) * (w1 - w0));
}
