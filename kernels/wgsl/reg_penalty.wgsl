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
// Dispatch: (1, 1): one workgroup of 64.
override COUNT4: u32;
override L1: f32;
override L2: f32;

@group(0) @binding(1) var<storage, read> p: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> metrics: array<u32, 4>;

var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32) {
  var s = 0.0;
  for (var i = li; i < COUNT4; i += 64u) {
    let pi = p[i];
    s += L1 * dot(abs(pi), vec4<f32>(1.0)) + L2 * dot(pi, pi);
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
    let total = max(partial[0] * f32(ctx.rows), 0.0);
    let whole = floor(total);
    let frac = u32((total - whole) * 16777216.0);
    var lo = metrics[1] + frac;
    var hi = metrics[0] + u32(whole);
    if (lo >= 16777216u) {
      lo -= 16777216u;
      hi += 1u;
    }
    metrics[0] = hi;
    metrics[1] = lo;
  }
}
