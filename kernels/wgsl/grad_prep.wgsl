// grad_prep.wgsl — a gradient made ready for the optimizer, in place, over
// one parameter's range of vec4s (padding zero, and it stays zero):
//   g = g + L1·sign(p) + L2X2·p;  CLIP > 0: g = clamp(g, −CLIP, CLIP)
//
// Bindings (group 0):
//   0 ctx  uniform Ctx (prelude), unused
//   1 p    storage read  array<vec4<f32>>  the parameter
//   2 g    storage rw    array<vec4<f32>>  its gradient
// Overrides: COUNT4 (vec4s), L1, L2X2 = 2·l2 (f32 on the host), CLIP (clipvalue, 0: none).
// Dispatch: (min(ceil(COUNT4 / 64), 64), 1) workgroups of 64 striding over the range.
override COUNT4: u32;
override L1: f32;
override L2X2: f32;
override CLIP: f32;

@group(0) @binding(1) var<storage, read> p: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> g: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * 64u;
  for (var i = gid.x; i < COUNT4; i += stride) {
    let pi = p[i];
    var gi = g[i] + L1 * sign(pi) + L2X2 * pi;
    if (CLIP > 0.0) {
      gi = clamp(gi, vec4<f32>(-CLIP), vec4<f32>(CLIP));
    }
    g[i] = gi;
  }
}
