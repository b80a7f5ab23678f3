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
// PAD_TOP, PAD_LEFT, CHANNELS.
// Dispatch: a 2-D grid of 64-invocation workgroups covering
// rows·IN_H·IN_W·CHANNELS/4 vec4 of dx, one per invocation (prelude's
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

@group(0) @binding(1) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dx: array<vec4<f32>>;

// Per channel: is the element at (ih, iw) the first maximum of window (oh, ow)? xb: its image's base plus its channel group.
fn first_max(xb: u32, ih: i32, iw: i32, oh: i32, ow: i32, v: vec4<f32>) -> vec4<bool> {
  let hs = oh * i32(STRIDE_H) - i32(PAD_TOP);
  let ws = ow * i32(STRIDE_W) - i32(PAD_LEFT);
  let h0 = max(hs, 0);
  let h1 = min(hs + i32(K_H), i32(IN_H));
  let w0 = max(ws, 0);
  let w1 = min(ws + i32(K_W), i32(IN_W));
  var m = vec4<bool>(true);
  for (var h = h0; h < h1; h = h + 1) {
    for (var w = w0; w < w1; w = w + 1) {
      let u = x[xb + (u32(h) * IN_W + u32(w)) * (CHANNELS / 4u)];
      let before = h < ih || (h == ih && w < iw);
      m = m & !select(u > v, u >= v, before);
    }
  }
  return m;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let C4 = CHANNELS / 4u;
  let i = flat_index(gid, nwg);
  if (i >= ctx.rows * IN_H * IN_W * C4) {
    return;
  }
  let c = i % C4;
  let pix = i / C4;
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
  let xb = b * IN_H * IN_W * C4 + c;
  let v = x[i];
  var acc = vec4<f32>(0.0);
  for (var oh = oh0; oh <= oh1; oh = oh + 1) {
    for (var ow = ow0; ow <= ow1; ow = ow + 1) {
      let d = dy[((b * OUT_H + u32(oh)) * OUT_W + u32(ow)) * C4 + c];
      acc = acc + select(vec4<f32>(0.0), d, first_max(xb, ih, iw, oh, ow, v));
    }
  }
  dx[i] = acc;
}
