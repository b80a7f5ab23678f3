// reg_penalty.wgsl — a kernel regularizer's penalty added to the reported
// loss: one workgroup sums l1·|p| + l2·p² over the parameter's vec4s (its
// padding is zero) in f32 per invocation, then a tree reduction; invocation 0
// adds ctx.rows times it to the fixed-point loss sum (2^-24 units, as the
// loss kernels write it): metrics[0] whole part, metrics[1] fraction.
//
// Bindings (group 0):
//   0 ctx      uniform Ctx (prelude): rows
//   1 p        storage read  array<vec4<f32>>  the kernel
//   2 metrics  storage rw    array<u32, 4>     loss sum (whole, fraction), correct, rows (untouched)
// Overrides: COUNT4 (vec4s), L1, L2.
// Uses parts/loss_metrics.wgsl (loss_part, workgroup_sum: the tree
// reduction; add_loss_sum: the fixed-point add; correct_part unused):
// uses: loss_metrics
// Dispatch: (1, 1): one workgroup of 64.
override COUNT4: u32;
override L1: f32;
override L2: f32;

@group(0) @binding(1) var<storage, read> p: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> metrics: array<u32, 4>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32) {
  var s = 0.0;
  for (var i = li; i < COUNT4; i += 64u) {
    let pi = p[i];
    s += L1 * dot(abs(pi), vec4<f32>(1.0)) + L2 * dot(pi, pi);
  }
  workgroup_sum(li, s, 0u);
  if (li == 0u) {
    add_loss_sum(loss_part[0] * f32(ctx.rows));
  }
}
