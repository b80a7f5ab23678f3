// rmsprop.wgsl — fused RMSprop update (Keras 3) over one contiguous range
// of vec4s (one parameter, or the whole arena; see sgd.wgsl):
//   v = ρ·v + (1−ρ)·g²
//   CENTERED: mg = ρ·mg + (1−ρ)·g;  d = v − mg² + ε     else d = v + ε
//   inc = lr·g / √d
//   HAS_MOM: mom = MOMENTUM·mom + inc; p −= mom          else p −= inc
// lr = ctx.lr, the step's learning rate (host f64 → f32).
//
// Bindings (group 0):
//   0 ctx  uniform Ctx (prelude): lr
//   1 p    storage rw    array<vec4<f32>>  parameters
//   2 g    storage read  array<vec4<f32>>  gradients
//   3 v    storage rw    array<vec4<f32>>  mean square of the gradient
//   4 mom  storage rw    array<vec4<f32>>  momentum (unused when !HAS_MOM)
//   5 mg   storage rw    array<vec4<f32>>  mean gradient (unused when !CENTERED)
// Overrides: COUNT4, RHO, RC = 1 − ρ (f32 on the host), MOMENTUM, EPS, HAS_MOM, CENTERED.
// Dispatch: (min(ceil(COUNT4 / 64), 64), 1) workgroups of 64 striding over the range.
override COUNT4: u32;
override RHO: f32;
override RC: f32;
override MOMENTUM: f32;
override EPS: f32;
override HAS_MOM: bool;
override CENTERED: bool;

@group(0) @binding(1) var<storage, read_write> p: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> v: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> mom: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> mg: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * 64u;
  let lr = ctx.lr;
  for (var i = gid.x; i < COUNT4; i += stride) {
    let gi = g[i];
    let vi = RHO * v[i] + RC * gi * gi;
    v[i] = vi;
    var d = vi + EPS;
    if (CENTERED) {
      let mgi = RHO * mg[i] + RC * gi;
      mg[i] = mgi;
      d = vi - mgi * mgi + EPS;
    }
    let inc = (lr * gi) / sqrt(d);
    if (HAS_MOM) {
      let mi = MOMENTUM * mom[i] + inc;
      mom[i] = mi;
      p[i] = p[i] - mi;
    } else {
      p[i] = p[i] - inc;
    }
  }
}
