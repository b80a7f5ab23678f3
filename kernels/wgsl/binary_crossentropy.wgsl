// binary_crossentropy.wgsl — binary cross-entropy of one output per row
// against labels 0/1 (with label smoothing), fused with its gradient; the
// loss sum and binary-accuracy count accumulated on the device.
//
// Bindings (group 0):
//   0 ctx       uniform Ctx (prelude): rows = M, inv_rows = f32(1/M)
//   1 outputs   storage read  array<f32>  [M] logits z (FROM_LOGITS) or probabilities p
//   2 labels    storage read  array<u32>  [M] class ids 0/1
//   3 doutputs  storage rw    array<f32>  [M] (σ(z) − y′) · inv_rows, or
//                                         (p − y′)/(p(1 − p)) · inv_rows inside
//                                         [1e-7, 1 − 1e-7] and 0 outside
//                                         (not written unless HAS_GRAD)
//   4 metrics   storage rw    array<u32, 4> as softmax_xent.wgsl: loss sum
//                                         (fixed point), correct count, rows
// Overrides: FROM_LOGITS, SMOOTHING (ε: y′ = y(1 − ε) + ε/2), HAS_GRAD.
// From logits (stable for any z): loss = max(z, 0) − z·y′ + log(1 + e^−|z|);
// from probabilities (clipped to [1e-7, 1 − 1e-7], as Keras):
// loss = −(y′ log p + (1 − y′) log(1 − p)). Correct iff (z > 0, or p > 0.5)
// equals (label = 1).
// Uses parts/loss_metrics.wgsl (loss_part, correct_part, workgroup_sum: the
// workgroup's sums; add_loss_sum, add_batch_metrics: the fixed-point adds):
// uses: loss_metrics
// Dispatch: exactly one workgroup of 64 (rows are strided over it).
override FROM_LOGITS: bool = true;
override SMOOTHING: f32 = 0.0;
override HAS_GRAD: bool = true;

@group(0) @binding(1) var<storage, read> outputs: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> doutputs: array<f32>;
@group(0) @binding(4) var<storage, read_write> metrics: array<u32, 4>;

const EPSILON: f32 = 1e-7;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32) {
  let M = ctx.rows;
  var loss = 0.0;
  var correct = 0u;
  for (var r = li; r < M; r += 64u) {
    let v = outputs[r];
    let label = labels[r];
    let y = f32(label) * (1.0 - SMOOTHING) + 0.5 * SMOOTHING;
    var d = 0.0;
    var predicted = 0u;
    if (FROM_LOGITS) {
      let e = exp(-abs(v));
      loss += max(v, 0.0) - v * y + log(1.0 + e);
      let s = select(e / (1.0 + e), 1.0 / (1.0 + e), v >= 0.0);
      d = s - y;
      predicted = select(0u, 1u, v > 0.0);
    } else {
      let p = clamp(v, EPSILON, 1.0 - EPSILON);
      loss += -(y * log(p) + (1.0 - y) * log(1.0 - p));
      d = select(0.0, (p - y) / (p * (1.0 - p)), v >= EPSILON && v <= 1.0 - EPSILON);
      predicted = select(0u, 1u, v > 0.5);
    }
    if (HAS_GRAD) {
      doutputs[r] = d * ctx.inv_rows;
    }
    if (predicted == label) {
      correct += 1u;
    }
  }
  workgroup_sum(li, loss, correct);
  if (li == 0u) {
    add_batch_metrics();
  }
}
