// layer_norm_param_grad.wgsl — the parameter gradients of layer
// normalization: dγ[d] = Σ_v dy[v, d]·x̂[v, d], dβ[d] = Σ_v dy[v, d] over the
// ctx.rows·G vectors v, x̂ = (x − mean[v])·rstd[v] (both overwritten).
//
// Bindings (group 0):
//   0 ctx     uniform Ctx (prelude): rows
//   1 dy      storage read  array<f32>  [rows × G × D]
//   2 x       storage read  array<f32>  [rows × G × D]
//   3 mean    storage read  array<f32>  [rows × G]
//   4 rstd    storage read  array<f32>  [rows × G]
//   5 dgamma  storage rw    array<f32>  [D] (written only if HAS_GAMMA)
//   6 dbeta   storage rw    array<f32>  [D] (written only if HAS_BETA)
// Overrides: G, D, HAS_GAMMA, HAS_BETA.
// One invocation per column d, summing the vectors in order (as the
// reference): deterministic, no atomics. Dispatch: (ceil(D / 64), 1)
// workgroups of 64.
override G: u32;
override D: u32;
override HAS_GAMMA: bool;
override HAS_BETA: bool;

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> mean: array<f32>;
@group(0) @binding(4) var<storage, read> rstd: array<f32>;
@group(0) @binding(5) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(6) var<storage, read_write> dbeta: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let d = gid.x;
  if (d >= D) {
    return;
  }
  var sg = 0.0;
  var sb = 0.0;
  let n = ctx.rows * G;
  for (var v = 0u; v < n; v++) {
    let g = dy[v * D + d];
    sg += g * (x[v * D + d] - mean[v]) * rstd[v];
    sb += g;
  }
  if (HAS_GAMMA) {
    dgamma[d] = sg;
  }
  if (HAS_BETA) {
    dbeta[d] = sb;
  }
}
