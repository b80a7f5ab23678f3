// layer_norm_backward.wgsl — dx of layer normalization, per vector:
//   x̂ = (x − mean)·rstd, g = dy·γ, dx = rstd·(g − Σg/D − x̂·Σ(g·x̂)/D).
// (dγ and dβ are layer_norm_param_grad.wgsl.)
//
// Bindings (group 0):
//   0 ctx    uniform Ctx (prelude): rows
//   1 dy     storage read  array<f32>  [rows × G × D]
//   2 x      storage read  array<f32>  [rows × G × D]
//   3 gamma  storage read  array<f32>  [D] (read only if HAS_GAMMA)
//   4 mean   storage read  array<f32>  [rows × G] (the forward's)
//   5 rstd   storage read  array<f32>  [rows × G] (the forward's)
//   6 dx     storage rw    array<f32>  [rows × G × D]
// Overrides: G, D, HAS_GAMMA.
// The variant for narrow vectors (D ≤ 256): one invocation per vector,
// summing in order, no barriers (layer_norm_backward_wide.wgsl gives each
// vector a workgroup). Dispatch: a 2-D grid of 64-invocation workgroups
// covering the ctx.rows·G vectors, one per invocation (prelude's flat_index).
override G: u32;
override D: u32;
override HAS_GAMMA: bool;

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> rstd: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;

fn scaled_dy(i: u32, j: u32) -> f32 {
  if (HAS_GAMMA) {
    return dy[i] * gamma[j];
  }
  return dy[i];
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let vec = flat_index(gid, nwg);
  if (vec >= ctx.rows * G) {
    return;
  }
  let o = vec * D;
  let mu = mean[vec];
  let r = rstd[vec];
  var a = 0.0;
  var b = 0.0;
  for (var j = 0u; j < D; j++) {
    let g = scaled_dy(o + j, j);
    a += g;
    b += g * (x[o + j] - mu) * r;
  }
  a /= f32(D);
  b /= f32(D);
  for (var j = 0u; j < D; j++) {
    let xh = (x[o + j] - mu) * r;
    dx[o + j] = r * (scaled_dy(o + j, j) - a - xh * b);
  }
}
