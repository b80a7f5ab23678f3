// batch_norm_backward_input.wgsl — batch normalization's input gradient
// (src/ops/batch_norm_backward.ts):
//   dx[i] = a·(dy[i] − Σdy/n − x̂·Σdy·x̂/n), c = i % CHANNELS,
//   x̂ = (x[i] − mean)·invstd, n = rows·FEATURES/CHANNELS, with mean,
//   invstd, a, Σdy, Σdy·x̂ the stats rows 0, 1, 2, 4, 5
//
// Bindings (group 0):
//   0 ctx    uniform Ctx (prelude): rows
//   1 dy     storage read  array<f32>  [rows × FEATURES] (channels last)
//   2 x      storage read  array<f32>  [rows × FEATURES]
//   3 stats  storage read  array<f32>  [6 × CHANNELS]
//   4 dx     storage rw    array<f32>  [rows × FEATURES], overwritten
// Overrides: CHANNELS, FEATURES (values per row).
// Dispatch: a 2-D grid of 64-invocation workgroups covering B·FEATURES
// values (prelude's flat_index); those past ctx.rows·FEATURES return.
override CHANNELS: u32;
override FEATURES: u32;

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= ctx.rows * FEATURES) {
    return;
  }
  let c = i % CHANNELS;
  let inv_n = 1.0 / f32(ctx.rows * (FEATURES / CHANNELS));
  let xhat = (x[i] - stats[c]) * stats[CHANNELS + c];
  dx[i] = stats[2u * CHANNELS + c] * (dy[i] - stats[4u * CHANNELS + c] * inv_n - xhat * (stats[5u * CHANNELS + c] * inv_n));
}
