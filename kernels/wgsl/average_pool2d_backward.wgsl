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
// Uses parts/pool_window.wgsl, which declares these overrides and the
// window geometry (pool_window_of, pool_windows_over, pool_span,
// pool_out_index):
// uses: pool_window
// Dispatch: a 2-D grid of 64-invocation workgroups covering
// rows·IN_H·IN_W·CHANNELS elements of dx, one per invocation (prelude's
// flat_index).
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

// The number of input rows (or columns) in window o of an axis.
fn clipped(o: i32, stride: u32, pad: u32, k: u32, size: u32) -> i32 {
  let span = pool_span(o, stride, pad, k, size);
  return span.y - span.x;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= ctx.rows * IN_H * IN_W * CHANNELS) {
    return;
  }
  let at = pool_windows_over(i);
  var acc = 0.0;
  for (var oh = at.oh0; oh <= at.oh1; oh = oh + 1) {
    let rows_in = clipped(oh, STRIDE_H, PAD_TOP, K_H, IN_H);
    for (var ow = at.ow0; ow <= at.ow1; ow = ow + 1) {
      let count = rows_in * clipped(ow, STRIDE_W, PAD_LEFT, K_W, IN_W);
      acc = acc + dy[pool_out_index(at.b, oh, ow, at.c)] / f32(count);
    }
  }
  dx[i] = acc;
}
