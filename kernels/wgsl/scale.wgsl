// scale.wgsl — y = S · x elementwise (average and subtract backward).
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows
//   1 x     storage read  array<f32>  [rows × FEATURES]
//   2 y     storage rw    array<f32>  [rows × FEATURES]
// Overrides: FEATURES, S (f32).
// Dispatch: a 2-D grid of 64-invocation workgroups covering rows·FEATURES
// elements, one per invocation (prelude's flat_index).
override FEATURES: u32;
override S: f32 = 1.0;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= ctx.rows * FEATURES) {
    return;
  }
  y[i] = S * x[i];
}
