// conv2d_bias_grad.wgsl — db[oc] = Σ of dy over the batch's pixels (the
// bias half of conv2d_backward_weights).
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows = B, the batch's images
//   1 dy    storage read  array<f32>  dy [B·PIXELS × OUT_C] (NHWC)
//   2 db    storage rw    array<f32>  db [OUT_C], overwritten
// Overrides: OUT_C, PIXELS = OUT_H·OUT_W per image.
// Dispatch: (ceil(OUT_C / 4), 1) workgroups of 64.
//
// One workgroup per 4 channels: its 64 invocations take every 64th pixel
// (the sums are B·PIXELS long, far more than the channels), then a tree
// reduction in workgroup memory (1 KiB).
override OUT_C: u32;
override PIXELS: u32;

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> db: array<f32>;

var<workgroup> part: array<vec4<f32>, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let c0 = wg.x * 4u;
  let c = vec4<u32>(c0, min(c0 + 1u, OUT_C - 1u), min(c0 + 2u, OUT_C - 1u), min(c0 + 3u, OUT_C - 1u));
  var acc = vec4<f32>(0.0);
  for (var p = lane; p < ctx.rows * PIXELS; p += 64u) {
    let o = p * OUT_C;
    acc += vec4<f32>(dy[o + c.x], dy[o + c.y], dy[o + c.z], dy[o + c.w]);
  }
  part[lane] = acc;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (lane < s) {
      part[lane] += part[lane + s];
    }
    workgroupBarrier();
  }
  if (lane < 4u && c0 + lane < OUT_C) {
    db[c0 + lane] = part[0][lane];
  }
}
