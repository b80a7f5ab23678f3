// batch_norm_apply.wgsl — batch normalization's per-value pass (src/ops/batch_norm.ts):
//   y[i] = x[i]·a[c] + b[c], c = i % CHANNELS, a and b the stats rows 2–3
//
// Bindings (group 0):
//   0 ctx    uniform Ctx (prelude): rows
//   1 x      storage read  array<f32>  [rows × FEATURES] (channels last)
//   2 stats  storage read  array<f32>  [6 × CHANNELS]
//   3 y      storage rw    array<f32>  [rows × FEATURES]
// Overrides: CHANNELS, FEATURES (values per row).
// Dispatch: a 2-D grid of 64-invocation workgroups covering B·FEATURES
// values (prelude's flat_index); those past ctx.rows·FEATURES return.
override CHANNELS: u32;
override FEATURES: u32;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= ctx.rows * FEATURES) {
    return;
  }
  let c = i % CHANNELS;
  y[i] = x[i] * stats[2u * CHANNELS + c] + stats[3u * CHANNELS + c];
}
