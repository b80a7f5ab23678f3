// position_embedding_backward.wgsl — dp[t, d] = Σ_r dy[r, t, d] (position
// embedding backward), overwritten.
//
// Bindings (group 0):
//   0 ctx  uniform Ctx (prelude): rows
//   1 dy   storage read  array<f32>  [rows × T × D]
//   2 dp   storage rw    array<f32>  [T × D], overwritten
// Overrides: T, D.
// One invocation per element of dp, summing its ctx.rows rows in order (as
// the reference). Dispatch: a 2-D grid of 64-invocation workgroups covering
// the T·D elements (prelude's flat_index).
override T: u32;
override D: u32;

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dp: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let j = flat_index(gid, nwg);
  let F = T * D;
  if (j >= F) {
    return;
  }
  var s = 0.0;
  for (var r = 0u; r < ctx.rows; r++) {
    s += dy[r * F + j];
  }
  dp[j] = s;
}
