// conv2d_bias_grad_vec4.wgsl — db[oc] = Σ of dy over the batch's pixels (the
// bias half of conv2d_backward_weights) for OUT_C a multiple of 4:
// conv2d_bias_grad.wgsl with one vec4 load of dy per pixel instead of four
// scalar ones. The backend picks it whenever OUT_C allows.
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows = B, the batch's images
//   1 dy    storage read  array<vec4<f32>>  dy [B·PIXELS × OUT_C] (NHWC)
//   2 db    storage rw    array<vec4<f32>>  db [OUT_C], overwritten
// Overrides: OUT_C, PIXELS = OUT_H·OUT_W per image.
// Dispatch: (OUT_C / 4, 1) workgroups of 64.
//
// One workgroup per 4 channels: its 64 invocations take every 64th pixel,
// then a tree reduction in workgroup memory (1 KiB); the same summation
// order as conv2d_bias_grad.wgsl.
override OUT_C: u32;
override PIXELS: u32;

@group(0) @binding(1) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> db: array<vec4<f32>>;

var<workgroup> part: array<vec4<f32>, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let OC4 = OUT_C / 4u;
  let c = wg.x;
  var acc = vec4<f32>(0.0);
  for (var p = lane; p < ctx.rows * PIXELS; p += 64u) {
    acc += dy[p * OC4 + c];
  }
  part[lane] = acc;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (lane < s) {
      part[lane] += part[lane + s];
    }
    workgroupBarrier();
  }
  if (lane == 0u) {
    db[c] = part[0];
  }
}
