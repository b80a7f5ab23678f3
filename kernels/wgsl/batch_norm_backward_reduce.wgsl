// batch_norm_backward_reduce.wgsl — the per-channel sums of batch
// normalization's gradient (src/ops/batch_norm_backward.ts):
//   Σdy and Σdy·x̂ over the batch's rows·FEATURES/CHANNELS values of each
//   channel, x̂ = (x − mean)·invstd with mean, invstd the stats rows 0–1
//
// Bindings (group 0):
//   0 ctx    uniform Ctx (prelude): rows
//   1 dy     storage read  array<f32>  [rows × FEATURES] (channels last)
//   2 x      storage read  array<f32>  [rows × FEATURES]
//   3 stats  storage rw    array<f32>  [6 × CHANNELS]: rows 0–1 read, rows 4 (Σdy) and 5 (Σdy·x̂) written
// Overrides: CHANNELS, FEATURES (values per row).
// Dispatch: (ceil(CHANNELS / 4), 1) workgroups of 64.
//
// One workgroup per 4 channels: its 64 invocations take every 64th
// position, then a tree reduction of both sums in workgroup memory (2 KiB).
// Only ceil(CHANNELS / 4) workgroups: enough for llvmpipe's few cores (as
// conv2d_bias_grad); a hardware GPU would want the positions split over
// more workgroups with a second combining pass (not measured here).
override CHANNELS: u32;
override FEATURES: u32;

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<f32>;

var<workgroup> part_dy: array<vec4<f32>, 64>;
var<workgroup> part_dyx: array<vec4<f32>, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let c0 = wg.x * 4u;
  let last = CHANNELS - 1u;
  let c = vec4<u32>(c0, min(c0 + 1u, last), min(c0 + 2u, last), min(c0 + 3u, last));
  let mean = vec4<f32>(stats[c.x], stats[c.y], stats[c.z], stats[c.w]);
  let invstd = vec4<f32>(stats[CHANNELS + c.x], stats[CHANNELS + c.y], stats[CHANNELS + c.z], stats[CHANNELS + c.w]);
  let positions = ctx.rows * (FEATURES / CHANNELS);
  var s_dy = vec4<f32>(0.0);
  var s_dyx = vec4<f32>(0.0);
  for (var p = lane; p < positions; p += 64u) {
    let o = p * CHANNELS;
    let g = vec4<f32>(dy[o + c.x], dy[o + c.y], dy[o + c.z], dy[o + c.w]);
    let xhat = (vec4<f32>(x[o + c.x], x[o + c.y], x[o + c.z], x[o + c.w]) - mean) * invstd;
    s_dy += g;
    s_dyx += g * xhat;
  }
  part_dy[lane] = s_dy;
  part_dyx[lane] = s_dyx;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (lane < s) {
      part_dy[lane] += part_dy[lane + s];
      part_dyx[lane] += part_dyx[lane + s];
    }
    workgroupBarrier();
  }
  if (lane < 4u && c0 + lane < CHANNELS) {
    stats[4u * CHANNELS + c0 + lane] = part_dy[0][lane];
    stats[5u * CHANNELS + c0 + lane] = part_dyx[0][lane];
  }
}
