// grad_clip.wgsl — a gradient range scaled to at most CLIPNORM in L2 norm,
// in place (one parameter for clipnorm, the whole grads arena for
// global_clipnorm):  g ·= CLIPNORM / max(√norm[0], CLIPNORM)
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude), unused
//   1 g     storage rw    array<vec4<f32>>  gradients
//   2 norm  storage read  array<f32>        their sum of squares (element 0, from grad_norm)
// Overrides: COUNT4 (vec4s), CLIPNORM.
// Dispatch: (min(ceil(COUNT4 / 64), 64), 1) workgroups of 64 striding over the range.
override COUNT4: u32;
override CLIPNORM: f32;

@group(0) @binding(1) var<storage, read_write> g: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> norm: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * 64u;
  let scale = CLIPNORM / max(sqrt(norm[0]), CLIPNORM);
  for (var i = gid.x; i < COUNT4; i += stride) {
    g[i] = g[i] * scale;
  }
}
