// grad_norm.wgsl — the sum of squares of a gradient range (one parameter,
// or the whole grads arena for global_clipnorm; padding zero), by one
// workgroup: each invocation sums a strided share in f32, then a tree
// reduction in workgroup memory; invocation 0 writes
//   out[0] = (ACCUMULATE ? out[0] : 0) + Σ g²
//
// Bindings (group 0):
//   0 ctx  uniform Ctx (prelude), unused
//   1 g    storage read  array<vec4<f32>>  gradients
//   2 out  storage rw    array<f32>        the sum (element 0)
// Overrides: COUNT4 (vec4s to sum), ACCUMULATE.
// Dispatch: (1, 1): one workgroup of 64 (the size every adapter allows).
override COUNT4: u32;
override ACCUMULATE: bool;

@group(0) @binding(1) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32) {
  var s = 0.0;
  for (var i = li; i < COUNT4; i += 64u) {
    let gi = g[i];
    s += dot(gi, gi);
  }
  partial[li] = s;
  workgroupBarrier();
  for (var half = 32u; half > 0u; half >>= 1u) {
    if (li < half) {
      partial[li] += partial[li + half];
    }
    workgroupBarrier();
  }
  if (li == 0u) {
    out[0] = select(0.0, out[0], ACCUMULATE) + partial[0];
  }
}
