// global_average_pool2d_backward.wgsl — dx[b, p, c] = dy[b, c] / HW at
// every one of the HW = H·W positions, channels_last.
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows
//   1 dy    storage read  array<f32>  [rows × CHANNELS]
//   2 dx    storage rw    array<f32>  [rows × HW × CHANNELS]
// Overrides: HW, CHANNELS.
// Dispatch: a 2-D grid of 64-invocation workgroups covering
// rows·HW·CHANNELS elements of dx, one per invocation (prelude's flat_index).
override HW: u32;
override CHANNELS: u32;

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= ctx.rows * HW * CHANNELS) {
    return;
  }
  dx[i] = dy[(i / (HW * CHANNELS)) * CHANNELS + i % CHANNELS] / f32(HW);
}
