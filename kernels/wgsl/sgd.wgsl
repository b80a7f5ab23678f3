// sgd.wgsl — fused SGD update (Keras 3 formulas) over one contiguous range
// of vec4s: one parameter, or the whole arena of every parameter (the
// backend lays out parameters, gradients and the momentum in arenas with
// identical layouts, padding zero), so one dispatch updates all:
//   HAS_M:  m = MOMENTUM·m − lr·g;  p += NESTEROV ? MOMENTUM·m − lr·g : m
//   else:   p −= lr·g
// lr = ctx.lr, the step's learning rate (the schedule's, host f64 → f32).
//
// Bindings (group 0):
//   0 ctx  uniform Ctx (prelude): lr
//   1 p    storage rw    array<vec4<f32>>  parameters
//   2 g    storage read  array<vec4<f32>>  gradients
//   3 m    storage rw    array<vec4<f32>>  momentum (unused when !HAS_M)
// Overrides: COUNT4 (vec4s to update), MOMENTUM, NESTEROV, HAS_M.
// Dispatch: (min(ceil(COUNT4 / 64), 64), 1) workgroups of 64 striding over the range.
override COUNT4: u32;
override MOMENTUM: f32;
override NESTEROV: bool;
override HAS_M: bool;

@group(0) @binding(1) var<storage, read_write> p: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> m: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * 64u;
  let lr = ctx.lr;
  for (var i = gid.x; i < COUNT4; i += stride) {
    let gi = g[i];
    if (!HAS_M) {
      p[i] = p[i] - gi * lr;
      continue;
    }
    let mi = -gi * lr + m[i] * MOMENTUM;
    m[i] = mi;
    if (NESTEROV) {
      p[i] = p[i] + (-gi * lr + mi * MOMENTUM);
    } else {
      p[i] = p[i] + mi;
    }
  }
}
