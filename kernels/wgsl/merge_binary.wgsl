// merge_binary.wgsl — the elementwise merges: y = a ∘ b, with ∘ chosen by
// the override OP (0 add, 1 subtract, 2 multiply), folded at pipeline creation.
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows
//   1 a     storage read  array<f32>  [rows × FEATURES]
//   2 b     storage read  array<f32>  [rows × FEATURES]
//   3 y     storage rw    array<f32>  [rows × FEATURES]
// Overrides: FEATURES, OP.
// Dispatch: a 2-D grid of 64-invocation workgroups covering rows·FEATURES
// elements, one per invocation (prelude's flat_index).
override FEATURES: u32;
override OP: u32 = 0u;

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= ctx.rows * FEATURES) {
    return;
  }
  switch OP {
    case 1u: { y[i] = a[i] - b[i]; }
    case 2u: { y[i] = a[i] * b[i]; }
    default: { y[i] = a[i] + b[i]; }
  }
}
