// global_max_pool2d_backward.wgsl — dx[b, p, c] = dy[b, c] at the first p
// where x[b, p, c] is the maximum over the HW = H·W positions (TensorFlow's
// tie-breaking: a later position replaces it only when strictly greater),
// 0 at every other position; channels_last.
// One invocation per (row, channel): it finds the maximum, then writes that
// channel's whole column of dx, which no other invocation touches (race-free).
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows
//   1 dy    storage read  array<f32>  [rows × CHANNELS]
//   2 x     storage read  array<f32>  [rows × HW × CHANNELS] the forward's input
//   3 dx    storage rw    array<f32>  [rows × HW × CHANNELS]
// Overrides: HW, CHANNELS.
// Dispatch: a 2-D grid of 64-invocation workgroups covering rows·CHANNELS
// (row, channel) pairs, one per invocation (prelude's flat_index).
override HW: u32;
override CHANNELS: u32;

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= ctx.rows * CHANNELS) {
    return;
  }
  let base = (i / CHANNELS) * HW * CHANNELS + i % CHANNELS;
  var m = x[base];
  var best = 0u;
  for (var p = 1u; p < HW; p = p + 1u) {
    let v = x[base + p * CHANNELS];
    if (v > m) {
      m = v;
      best = p;
    }
  }
  let g = dy[i];
  for (var p = 0u; p < HW; p = p + 1u) {
    dx[base + p * CHANNELS] = select(0.0, g, p == best);
  }
}
