// adam.wgsl — fused Adam update (Keras semantics) over one contiguous arena
// holding every parameter of the model (the backend packs parameters,
// gradients and both moments in four buffers with identical layouts, each
// parameter 256-byte aligned, padding zero), so one dispatch updates all:
//   m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;  p −= alpha·m / (√v + ε)
// with alpha = lr·√(1−β2^t)/(1−β1^t) for t = step + 1, computed on the host
// in f64 for each step of a chunk and read from ctx.alpha.
//
// Bindings (group 0):
//   0 ctx  uniform Ctx (prelude): alpha
//   1 p    storage rw    array<vec4<f32>>  parameters
//   2 g    storage read  array<vec4<f32>>  gradients
//   3 m    storage rw    array<vec4<f32>>  first moments
//   4 v    storage rw    array<vec4<f32>>  second moments
// Overrides: COUNT4 (arena length / 4), B1, B2, B1C = 1 − β1, B2C = 1 − β2
//   (rounded to f32 on the host), EPS.
// Dispatch: (min(ceil(COUNT4 / 64), 64), 1) workgroups of 64; invocations
// stride over the arena (few, long-lived invocations: llvmpipe pays per
// workgroup, and the update is memory-bound).
override COUNT4: u32;
override B1: f32;
override B2: f32;
override B1C: f32;
override B2C: f32;
override EPS: f32;

@group(0) @binding(1) var<storage, read_write> p: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> m: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> v: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * 64u;
  let alpha = ctx.alpha;
  for (var i = gid.x; i < COUNT4; i += stride) {
    let gi = g[i];
    let mi = B1 * m[i] + B1C * gi;
    let vi = B2 * v[i] + B2C * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] - (alpha * mi) / (sqrt(vi) + EPS);
  }
}
