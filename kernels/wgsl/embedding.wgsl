// embedding.wgsl — y[p·D + d] = table[row(ids[p])·D + d] (embedding lookup).
//
// Bindings (group 0):
//   0 ctx    uniform Ctx (prelude): rows
//   1 ids    storage read  array<f32>  [rows × T] integer token ids as floats
//   2 table  storage read  array<f32>  [V × D]
//   3 y      storage rw    array<f32>  [rows × T × D]
// Overrides: T, D, V.
// row(id) = id clamped to 0 … V − 1, truncated (NaN reads as 0 wherever
// comparisons with NaN are false), so no id reads outside the table.
// Dispatch: a 2-D grid of 64-invocation workgroups covering every element
// of y, one per invocation (prelude's flat_index).
override T: u32;
override D: u32;
override V: u32;

@group(0) @binding(1) var<storage, read> ids: array<f32>;
@group(0) @binding(2) var<storage, read> table: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

fn token_row(id: f32) -> u32 {
  if (id >= f32(V - 1u)) {
    return V - 1u;
  }
  if (id > 0.0) {
    return u32(id);
  }
  return 0u;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= ctx.rows * T * D) {
    return;
  }
  let p = i / D;
  let d = i - p * D;
  y[i] = table[token_row(ids[p]) * D + d];
}
