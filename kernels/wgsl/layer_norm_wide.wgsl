// layer_norm_wide.wgsl — layer normalization over the last axis (the variant
// for wide vectors, D > 256; layer_norm.wgsl is the narrow one): each of the
// ctx.rows·G vectors of D values is normalised on its own,
//   mean = Σx/D, rstd = 1/√(Σ(x − mean)²/D + EPSILON), y = (x − mean)·rstd·γ + β.
//
// Bindings (group 0):
//   0 ctx    uniform Ctx (prelude): rows
//   1 x      storage read  array<f32>  [rows × G × D]
//   2 gamma  storage read  array<f32>  [D] (read only if HAS_GAMMA)
//   3 beta   storage read  array<f32>  [D] (read only if HAS_BETA)
//   4 y      storage rw    array<f32>  [rows × G × D]
//   5 mean   storage rw    array<f32>  [rows × G]
//   6 rstd   storage rw    array<f32>  [rows × G]
// Overrides: G, D, EPSILON, HAS_GAMMA, HAS_BETA.
// Dispatch: one 64-invocation workgroup per vector, vectors numbered
// workgroup_id.x + workgroup_id.y·num_workgroups.x (a 2-D grid); workgroups
// past ctx.rows·G return. Each invocation strides over the vector; the sum
// and then the sum of squared deviations (two passes: no cancellation) are
// tree reductions in workgroup memory.
override G: u32;
override D: u32;
override EPSILON: f32;
override HAS_GAMMA: bool;
override HAS_BETA: bool;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> rstd: array<f32>;

// One array per reduction: one array reused for both sums (with a barrier
// between reading the mean and writing the squares) gave wrong variances on
// llvmpipe wherever D > 8, as if invocations past the first 8 read a stale mean.
var<workgroup> sums: array<f32, 64>;
var<workgroup> squares: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let vec = wid.x + wid.y * nwg.x;
  if (vec >= ctx.rows * G) {
    return; // uniform per workgroup: the barriers below stay in uniform control flow
  }
  let o = vec * D;
  var s = 0.0;
  for (var j = lid; j < D; j += 64u) {
    s += x[o + j];
  }
  sums[lid] = s;
  for (var k = 32u; k > 0u; k >>= 1u) {
    workgroupBarrier();
    if (lid < k) {
      sums[lid] += sums[lid + k];
    }
  }
  workgroupBarrier();
  let mu = sums[0] / f32(D);
  var q = 0.0;
  for (var j = lid; j < D; j += 64u) {
    let c = x[o + j] - mu;
    q += c * c;
  }
  squares[lid] = q;
  for (var k = 32u; k > 0u; k >>= 1u) {
    workgroupBarrier();
    if (lid < k) {
      squares[lid] += squares[lid + k];
    }
  }
  workgroupBarrier();
  let r = 1.0 / sqrt(squares[0] / f32(D) + EPSILON);
  if (lid == 0u) {
    mean[vec] = mu;
    rstd[vec] = r;
  }
  for (var j = lid; j < D; j += 64u) {
    var t = (x[o + j] - mu) * r;
    if (HAS_GAMMA) {
      t *= gamma[j];
    }
    if (HAS_BETA) {
      t += beta[j];
    }
    y[o + j] = t;
  }
}
