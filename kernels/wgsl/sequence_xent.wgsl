// sequence_xent.wgsl — sparse cross-entropy at every position of a
// sequence, fused with its gradient, accumulated on the device as
// softmax_xent.wgsl does (same metrics layout).
//
// Bindings (group 0):
//   0 ctx      uniform Ctx (prelude): rows, inv_rows = f32(1/rows)
//   1 logits   storage read  array<f32>  [rows × T × C]
//   2 targets  storage read  array<f32>  [rows × T] class ids (integers as floats)
//   3 dlogits  storage rw    array<f32>  [rows × T × C] (softmax − onehot) · inv_rows / T
//                                         (not written unless HAS_GRAD)
//   4 metrics  storage rw    array<u32, 4>: [0], [1] Σ loss / T in fixed point
//                (integer part, fraction in 2^-24); [2] correct positions; [3] rows.
// Overrides: T (positions), C (classes), HAS_GRAD.
// Uses parts/loss_metrics.wgsl (loss_part, correct_part, workgroup_sum: the
// workgroup's sums; add_loss_sum, add_batch_metrics: the fixed-point adds) and
// parts/softmax_row.wgsl (softmax_row: a row's max, first argmax, Σ exp):
// uses: loss_metrics, softmax_row
// Dispatch: exactly one workgroup of 64 (positions strided over it), so the
// accumulation is race-free.
override T: u32;
override C: u32;
override HAS_GRAD: bool = true;

@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(4) var<storage, read_write> metrics: array<u32, 4>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32) {
  let n = ctx.rows * T;
  let scale = ctx.inv_rows / f32(T);
  var loss = 0.0;
  var correct = 0u;
  for (var p = li; p < n; p += 64u) {
    let o = p * C;
    let row = softmax_row(o);
    let mx = row.mx;
    let sum = row.sum;
    let label = min(u32(max(targets[p], 0.0)), C - 1u);
    loss += log(sum) + mx - logits[o + label];
    if (row.arg == label) {
      correct += 1u;
    }
    if (HAS_GRAD) {
      let inv = 1.0 / sum;
      for (var c = 0u; c < C; c++) {
        let q = exp(logits[o + c] - mx) * inv;
        dlogits[o + c] = (q - select(0.0, 1.0, c == label)) * scale;
      }
    }
  }
  workgroup_sum(li, loss / f32(T), correct);
  if (li == 0u) {
    add_batch_metrics();
  }
}
