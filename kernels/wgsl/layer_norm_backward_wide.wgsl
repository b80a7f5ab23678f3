// layer_norm_backward_wide.wgsl — dx of layer normalization for wide vectors
// (D > 256; layer_norm_backward.wgsl is the narrow variant), per vector:
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
// Dispatch: one 64-invocation workgroup per vector, vectors numbered
// workgroup_id.x + workgroup_id.y·num_workgroups.x; workgroups past
// ctx.rows·G return. Both sums are one tree reduction of vec2s.
override G: u32;
override D: u32;
override HAS_GAMMA: bool;

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> rstd: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;

var<workgroup> part: array<vec2<f32>, 64>;

fn scaled_dy(i: u32, j: u32) -> f32 {
  if (HAS_GAMMA) {
    return dy[i] * gamma[j];
  }
  return dy[i];
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let vec = wid.x + wid.y * nwg.x;
  if (vec >= ctx.rows * G) {
    return; // uniform per workgroup: the barriers below stay in uniform control flow
  }
  let o = vec * D;
  let mu = mean[vec];
  let r = rstd[vec];
  var ab = vec2<f32>(0.0, 0.0);
  for (var j = lid; j < D; j += 64u) {
    let g = scaled_dy(o + j, j);
    ab += vec2<f32>(g, g * (x[o + j] - mu) * r);
  }
  part[lid] = ab;
  for (var s = 32u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (lid < s) {
      part[lid] += part[lid + s];
    }
  }
  workgroupBarrier();
  let m = part[0] / f32(D);
  for (var j = lid; j < D; j += 64u) {
    let xh = (x[o + j] - mu) * r;
    dx[o + j] = r * (scaled_dy(o + j, j) - m.x - xh * m.y);
  }
}
