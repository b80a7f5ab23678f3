// attention_ds.wgsl — the softmax backward of the attention probabilities:
// ds[h,i,j] = p[h,i,j] · (dp[h,i,j] − Σ_j' p[h,i,j']·dp[h,i,j']).
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows
//   1 dp    storage read  array<f32>  [rows × H × T × T]
//   2 p     storage read  array<f32>  [rows × H × T × T]
//   3 ds    storage rw    array<f32>  [rows × H × T × T]
// Overrides: T, H.
// Dispatch: a 2-D grid of 64-invocation workgroups, one invocation per
// (row, head, query i) row of T values (flat_index).
override T: u32;
override H: u32;

@group(0) @binding(1) var<storage, read> dp: array<f32>;
@group(0) @binding(2) var<storage, read> p: array<f32>;
@group(0) @binding(3) var<storage, read_write> ds: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = flat_index(gid, nwg);
  if (n >= ctx.rows * H * T) {
    return;
  }
  let row = n * T;
  var dot = 0.0;
  for (var j = 0u; j < T; j++) {
    dot += p[row + j] * dp[row + j];
  }
  for (var j = 0u; j < T; j++) {
    ds[row + j] = p[row + j] * (dp[row + j] - dot);
  }
}
