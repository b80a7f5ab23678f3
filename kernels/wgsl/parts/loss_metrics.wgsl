// parts/loss_metrics.wgsl — shared part (not a kernel) of the fused loss
// kernels softmax_xent, categorical_crossentropy, binary_crossentropy,
// sequence_xent, regression_loss and of reg_penalty, pulled in by their
// `// uses: loss_metrics` line (src/runtime/webgpu/kernels.ts): the
// workgroup's sum of its invocations' losses and correct counts, and its
// fixed-point accumulation into the device-side metrics. Integer arithmetic,
// so the sum over thousands of steps neither needs f32 atomics (WGSL has
// none) nor loses precision (resolution 2^-24 ≈ 6e-8 per step).
//
// Expects the kernel to declare `metrics: array<u32, 4>` (storage,
// read_write): [0] loss sum, integer part; [1] loss sum, fraction in units of
// 2^-24 (kept < 2^24, carries into [0]); [2] correct count; [3] rows seen.
// The host reads [0] + [1]·2^-24. Declares, for a workgroup of 64
// invocations, one workgroup, dispatched alone (race-free):
//   loss_part, correct_part  var<workgroup> array<f32|u32, 64>
//   workgroup_sum(li, loss, correct)  every invocation calls it; afterwards
//     loss_part[0] and correct_part[0] hold the workgroup's sums (tree order)
//   add_loss_sum(total)  metrics[0..1] += max(total, 0) in fixed point
//   add_batch_metrics()  invocation 0 only: add_loss_sum(loss_part[0]),
//     metrics[2] += correct_part[0], metrics[3] += ctx.rows
var<workgroup> loss_part: array<f32, 64>;
var<workgroup> correct_part: array<u32, 64>;

fn workgroup_sum(li: u32, loss: f32, correct: u32) {
  loss_part[li] = loss;
  correct_part[li] = correct;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (li < s) {
      loss_part[li] += loss_part[li + s];
      correct_part[li] += correct_part[li + s];
    }
    workgroupBarrier();
  }
}

fn add_loss_sum(sum: f32) {
  let total = max(sum, 0.0);
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

fn add_batch_metrics() {
  add_loss_sum(loss_part[0]);
  metrics[2] += correct_part[0];
  metrics[3] += ctx.rows;
}
