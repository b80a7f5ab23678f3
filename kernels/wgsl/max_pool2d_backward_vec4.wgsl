// max_pool2d_backward_vec4.wgsl — dx = the sum of dy over the windows whose
// maximum this input element is, channels_last, for CHANNELS a multiple of
// 4: max_pool2d_backward.wgsl with each invocation owning one input pixel ×
// 4 channels (vec4 loads of x, dy and dx), so a quarter of the loads and
// invocations. The same rule per channel: an element is its window's
// maximum when no element before it (row-major h, then w) is ≥ it and none
// after it is > it — the first maximum, as TensorFlow breaks ties; windows
// are clipped to the input. The backend picks it whenever CHANNELS allows.
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows
//   1 dy    storage read  array<vec4<f32>>  [rows × OUT_H × OUT_W × CHANNELS]
//   2 x     storage read  array<vec4<f32>>  [rows × IN_H × IN_W × CHANNELS] the forward's input
//   3 dx    storage rw    array<vec4<f32>>  [rows × IN_H × IN_W × CHANNELS]
// Overrides: IN_H, IN_W, OUT_H, OUT_W, K_H, K_W, STRIDE_H, STRIDE_W,
// PAD_TOP, PAD_LEFT, CHANNELS (a multiple of 4).
// Uses parts/pool_window.wgsl, which declares these overrides and the
// window geometry (pool_windows_over, pool_span, pool_out_index; in scalar
// elements, so the vec4 indices are theirs / 4):
// uses: pool_window
// Dispatch: a 2-D grid of 64-invocation workgroups covering
// rows·IN_H·IN_W·CHANNELS/4 vec4 of dx, one per invocation (prelude's
// flat_index).
@group(0) @binding(1) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dx: array<vec4<f32>>;

// Per channel: is the element at (ih, iw) the first maximum of window (oh, ow)? xb4: the vec4 index of (b, 0, 0, its channels).
fn first_max(xb4: u32, ih: i32, iw: i32, oh: i32, ow: i32, v: vec4<f32>) -> vec4<bool> {
  let hs = pool_span(oh, STRIDE_H, PAD_TOP, K_H, IN_H);
  let ws = pool_span(ow, STRIDE_W, PAD_LEFT, K_W, IN_W);
  var m = vec4<bool>(true);
  for (var h = hs.x; h < hs.y; h = h + 1) {
    for (var w = ws.x; w < ws.y; w = w + 1) {
      let u = x[xb4 + (u32(h) * IN_W + u32(w)) * (CHANNELS / 4u)];
      let before = h < ih || (h == ih && w < iw);
      m = m & !select(u > v, u >= v, before);
    }
  }
  return m;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= ctx.rows * IN_H * IN_W * (CHANNELS / 4u)) {
    return;
  }
  // Scalar element 4·i is this invocation's first channel.
  let at = pool_windows_over(4u * i);
  let v = x[i];
  var acc = vec4<f32>(0.0);
  for (var oh = at.oh0; oh <= at.oh1; oh = oh + 1) {
    for (var ow = at.ow0; ow <= at.ow1; ow = ow + 1) {
      let d = dy[pool_out_index(at.b, oh, ow, at.c) / 4u];
      acc = acc + select(vec4<f32>(0.0), d, first_max(at.xb / 4u, at.ih, at.iw, oh, ow, v));
    }
  }
  dx[i] = acc;
}
