// regression_loss.wgsl — the regression losses fused with their gradient,
// the per-example losses summed on the device (mean_squared_error,
// mean_absolute_error, huber; also their use as the mse / mae metrics).
//
// Bindings (group 0):
//   0 ctx       uniform Ctx (prelude): rows = M, inv_rows = f32(1/M)
//   1 outputs   storage read  array<f32>  [M × W] the last layer's outputs y
//   2 targets   storage read  array<f32>  [M × W] float targets t
//   3 doutputs  storage rw    array<f32>  [M × W] l'(y − t) · inv_rows / W
//                                         (not written unless HAS_GRAD)
//   4 metrics   storage rw    array<u32, 4> the accumulator, added to:
//                 [0] sum, integer part; [1] fraction in units of 2^-24
//                 (kept < 2^24, carries into [0]); [3] rows seen
// Overrides: W; LOSS: 0 mean_squared_error l(e) = e², l' = 2e;
//   1 mean_absolute_error l = |e|, l' = sign(e); 2 huber l = ½e² for
//   |e| ≤ DELTA, else DELTA·(|e| − ½DELTA), l' = e or DELTA·sign(e);
//   DELTA; HAS_GRAD.
// Sum: Σ_rows (1/W) Σ_j l(y − t). The workgroup sums its rows' losses in
// workgroup memory; invocation 0 adds the batch's sum in fixed point
// (integer arithmetic: exact, race-free, no f32 atomics).
// Uses parts/loss_metrics.wgsl (loss_part, correct_part, workgroup_sum: the
// workgroup's sums; add_loss_sum: the fixed-point add; correct_part unused):
// uses: loss_metrics
// Dispatch: exactly one workgroup of 64 (rows are strided over it).
override W: u32;
override LOSS: u32 = 0u;
override DELTA: f32 = 1.0;
override HAS_GRAD: bool = true;

@group(0) @binding(1) var<storage, read> outputs: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;
@group(0) @binding(3) var<storage, read_write> doutputs: array<f32>;
@group(0) @binding(4) var<storage, read_write> metrics: array<u32, 4>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32) {
  let M = ctx.rows;
  let scale = ctx.inv_rows / f32(W);
  var loss = 0.0;
  for (var r = li; r < M; r += 64u) {
    var row = 0.0;
    for (var j = 0u; j < W; j++) {
      let o = r * W + j;
      let e = outputs[o] - targets[o];
      let a = abs(e);
      var l = e * e;
      var slope = 2.0 * e;
      if (LOSS == 1u) {
        l = a;
        slope = sign(e);
      } else if (LOSS == 2u) {
        if (a <= DELTA) {
          l = 0.5 * e * e;
          slope = e;
        } else {
          l = DELTA * a - 0.5 * DELTA * DELTA;
          slope = DELTA * sign(e);
        }
      }
      row += l;
      if (HAS_GRAD) {
        doutputs[o] = slope * scale;
      }
    }
    loss += row / f32(W);
  }
  workgroup_sum(li, loss, 0u);
  if (li == 0u) {
    add_loss_sum(loss_part[0]);
    metrics[3] += M;
  }
}
