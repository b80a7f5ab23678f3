// softmax_xent.wgsl — fused softmax cross-entropy forward + backward with
// the loss sum and correct count accumulated on the device.
//
// Bindings (group 0):
//   0 ctx      uniform Ctx (prelude): rows = M, inv_rows = f32(1/M)
//   1 logits   storage read  array<f32>  [M × C]
//   2 labels   storage read  array<u32>  [M] class indices
//   3 dlogits  storage rw    array<f32>  [M × C] (softmax − onehot) · inv_rows
//                                        (not written unless HAS_GRAD)
//   4 metrics  storage rw    array<u32, 4> accumulators, added to:
//                [0] loss sum, integer part; [1] loss sum, fraction in units
//                of 2^-24 (kept < 2^24, carries into [0]); [2] correct count;
//                [3] rows seen. The host reads [0] + [1]·2^-24.
// Overrides: C (classes), HAS_GRAD.
// Per row (max-subtracted, numerically stable): loss = log Σ exp(z − max) +
// max − z[label]; correct iff the first argmax equals the label. The
// workgroup sums its rows' losses in workgroup memory, then invocation 0 adds
// the batch's sum to the fixed-point accumulator: integer arithmetic, so the
// sum over thousands of steps neither needs f32 atomics (WGSL has none) nor
// loses precision (resolution 6e-8 per step).
// Uses parts/loss_metrics.wgsl (loss_part, correct_part, workgroup_sum: the
// workgroup's sums; add_loss_sum, add_batch_metrics: the fixed-point adds) and
// parts/softmax_row.wgsl (softmax_row: a row's max, first argmax, Σ exp):
// uses: loss_metrics, softmax_row
// Dispatch: exactly one workgroup of 64 (rows are strided over it); the
// accumulation is therefore race-free.
override C: u32;
override HAS_GRAD: bool = true;

@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(4) var<storage, read_write> metrics: array<u32, 4>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32) {
  let M = ctx.rows;
  var loss = 0.0;
  var correct = 0u;
  for (var r = li; r < M; r += 64u) {
    let o = r * C;
    let row = softmax_row(o);
    let mx = row.mx;
    let sum = row.sum;
    let label = labels[r];
    loss += log(sum) + mx - logits[o + min(label, C - 1u)];
    if (row.arg == label) {
      correct += 1u;
    }
    if (HAS_GRAD) {
      let inv = 1.0 / sum;
      for (var c = 0u; c < C; c++) {
        let p = exp(logits[o + c] - mx) * inv;
        dlogits[o + c] = (p - select(0.0, 1.0, c == label)) * ctx.inv_rows;
      }
    }
  }
  workgroup_sum(li, loss, correct);
  if (li == 0u) {
    add_batch_metrics();
  }
}
