// position_embedding.wgsl — y[r, t, d] = x[r, t, d] + p[t, d] (learned
// position embedding added to its input).
//
// Bindings (group 0):
//   0 ctx  uniform Ctx (prelude): rows
//   1 x    storage read  array<f32>  [rows × T × D]
//   2 p    storage read  array<f32>  [T × D]
//   3 y    storage rw    array<f32>  [rows × T × D]
// Overrides: T, D.
// Dispatch: a 2-D grid of 64-invocation workgroups covering every element
// of y, one per invocation (prelude's flat_index).
override T: u32;
override D: u32;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> p: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  let F = T * D;
  if (i >= ctx.rows * F) {
    return;
  }
  y[i] = x[i] + p[i % F];
}
