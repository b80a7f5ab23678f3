// max_pool2d_backward.wgsl — dx = the sum of dy over the windows whose
// maximum this input element is, channels_last. Each invocation owns one
// dx element and scans the (at most ⌈K_H/STRIDE_H⌉·⌈K_W/STRIDE_W⌉) windows
// that contain it (gather form: no two invocations write one element, so
// overlapping windows need no atomics). The maximum is recomputed from x:
// an element is its window's maximum when no element before it (row-major
// h, then w) is ≥ it and none after it is > it — the first maximum, as
// TensorFlow breaks ties. Windows are clipped to the input ("same" padding
// is never the maximum).
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows
//   1 dy    storage read  array<f32>  [rows × OUT_H × OUT_W × CHANNELS]
//   2 x     storage read  array<f32>  [rows × IN_H × IN_W × CHANNELS] the forward's input
//   3 dx    storage rw    array<f32>  [rows × IN_H × IN_W × CHANNELS]
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
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

// Is the element at (ih, iw) the first maximum of window (oh, ow)? xb: its row's base plus its channel.
fn first_max(xb: u32, ih: i32, iw: i32, oh: i32, ow: i32, v: f32) -> bool {
  let hs = pool_span(oh, STRIDE_H, PAD_TOP, K_H, IN_H);
  let ws = pool_span(ow, STRIDE_W, PAD_LEFT, K_W, IN_W);
  for (var h = hs.x; h < hs.y; h = h + 1) {
    for (var w = ws.x; w < ws.y; w = w + 1) {
      let u = x[xb + (u32(h) * IN_W + u32(w)) * CHANNELS];
      let before = h < ih || (h == ih && w < iw);
      if (select(u > v, u >= v, before)) {
        return false;
      }
    }
  }
  return true;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= ctx.rows * IN_H * IN_W * CHANNELS) {
    return;
  }
  let at = pool_windows_over(i);
  let v = x[i];
  var acc = 0.0;
  for (var oh = at.oh0; oh <= at.oh1; oh = oh + 1) {
    for (var ow = at.ow0; ow <= at.ow1; ow = ow + 1) {
      if (first_max(at.xb, at.ih, at.iw, oh, ow, v)) {
        acc = acc + dy[pool_out_index(at.b, oh, ow, at.c)];
      }
    }
  }
  dx[i] = acc;
}
