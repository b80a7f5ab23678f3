// max_pool2d.wgsl — y = the maximum of each pool window, channels_last:
// x [rows, IN_H, IN_W, CHANNELS] → y [rows, OUT_H, OUT_W, CHANNELS].
// Window (oh, ow) starts at (oh·STRIDE_H − PAD_TOP, ow·STRIDE_W − PAD_LEFT)
// and is clipped to the input, so "same" padding is never the maximum.
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows
//   1 x     storage read  array<f32>  [rows × IN_H × IN_W × CHANNELS]
//   2 y     storage rw    array<f32>  [rows × OUT_H × OUT_W × CHANNELS]
// Overrides: IN_H, IN_W, OUT_H, OUT_W, K_H, K_W, STRIDE_H, STRIDE_W,
// PAD_TOP, PAD_LEFT, CHANNELS.
// Uses parts/pool_window.wgsl, which declares these overrides and the
// window geometry (pool_window_of, pool_windows_over, pool_span,
// pool_out_index):
// uses: pool_window
// Dispatch: a 2-D grid of 64-invocation workgroups covering
// rows·OUT_H·OUT_W·CHANNELS outputs, one per invocation (prelude's
// flat_index); adjacent invocations read adjacent channels.
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= ctx.rows * OUT_H * OUT_W * CHANNELS) {
    return;
  }
  let win = pool_window_of(i);
  if (win.h0 >= win.h1 || win.w0 >= win.w1) {
    y[i] = 0.0;
    return;
  }
  var m = x[win.xb + (win.h0 * IN_W + win.w0) * CHANNELS];
  for (var h = win.h0; h < win.h1; h = h + 1u) {
    for (var w = win.w0; w < win.w1; w = w + 1u) {
      m = max(m, x[win.xb + (h * IN_W + w) * CHANNELS]);
    }
  }
  y[i] = m;
}
