// adamw.wgsl — fused AdamW / AMSGrad update (Keras 3) over one contiguous
// range of vec4s (one parameter, or the whole arena; see sgd.wgsl):
//   p −= p·(lr·WD)          (decoupled weight decay, applied first)
//   m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//   AMSGRAD: vhat = max(vhat, v), used instead of v below
//   p −= alpha·m / (√v + ε)
// alpha = ctx.alpha (Adam's bias-corrected step size for t = step + 1) and
// lr = ctx.lr, both computed on the host in f64 for each step.
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): alpha, lr
//   1 p     storage rw    array<vec4<f32>>  parameters
//   2 g     storage read  array<vec4<f32>>  gradients
//   3 m     storage rw    array<vec4<f32>>  first moments
//   4 v     storage rw    array<vec4<f32>>  second moments
//   5 vhat  storage rw    array<vec4<f32>>  running maximum of v (unused when !AMSGRAD)
// Overrides: COUNT4, B1, B2, B1C = 1 − β1, B2C = 1 − β2 (f32 on the host), EPS, WD, AMSGRAD.
// Dispatch: (min(ceil(COUNT4 / 64), 64), 1) workgroups of 64 striding over the range.
override COUNT4: u32;
override B1: f32;
override B2: f32;
override B1C: f32;
override B2C: f32;
override EPS: f32;
override WD: f32;
override AMSGRAD: bool;

@group(0) @binding(1) var<storage, read_write> p: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> m: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> v: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> vhat: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * 64u;
  let alpha = ctx.alpha;
  let decay = ctx.lr * WD;
  for (var i = gid.x; i < COUNT4; i += stride) {
    let gi = g[i];
    let pi = p[i] - p[i] * decay;
    let mi = B1 * m[i] + B1C * gi;
    var vi = B2 * v[i] + B2C * gi * gi;
    m[i] = mi;
    v[i] = vi;
    if (AMSGRAD) {
      vi = max(vhat[i], vi);
      vhat[i] = vi;
    }
    p[i] = pi - (alpha * mi) / (sqrt(vi) + EPS);
  }
}
