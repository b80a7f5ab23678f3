// relu_backward.wgsl — dX = dY where the ReLU output Y > 0, else 0 (used
// when the ReLU could not be fused into dense_backward_input, e.g. with a
// dropout in between). The forward ReLU is always fused into dense_forward.
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows
//   1 dy    storage read  array<f32>  [rows × FEATURES]
//   2 y     storage read  array<f32>  [rows × FEATURES] the ReLU output
//   3 dx    storage rw    array<f32>  [rows × FEATURES]
// Overrides: FEATURES.
// Dispatch: a 2-D grid of 64-invocation workgroups covering rows·FEATURES
// elements, one per invocation (prelude's flat_index).
override FEATURES: u32;

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= ctx.rows * FEATURES) {
    return;
  }
  dx[i] = select(0.0, dy[i], y[i] > 0.0);
}
