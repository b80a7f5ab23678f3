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
// Dispatch: exactly one workgroup of 64 (positions strided over it), so the
// accumulation is race-free.
override T: u32;
override C: u32;
override HAS_GRAD: bool = true;

@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(4) var<storage, read_write> metrics: array<u32, 4>;

var<workgroup> loss_part: array<f32, 64>;
var<workgroup> correct_part: array<u32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32) {
  let n = ctx.rows * T;
  let scale = ctx.inv_rows / f32(T);
  var loss = 0.0;
  var correct = 0u;
  for (var p = li; p < n; p += 64u) {
    let o = p * C;
    var mx = logits[o];
    var arg = 0u;
    for (var c = 1u; c < C; c++) {
      let z = logits[o + c];
      if (z > mx) {
        mx = z;
        arg = c;
      }
    }
    var sum = 0.0;
    for (var c = 0u; c < C; c++) {
      sum += exp(logits[o + c] - mx);
    }
    let label = min(u32(max(targets[p], 0.0)), C - 1u);
    loss += log(sum) + mx - logits[o + label];
    if (arg == label) {
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
  loss_part[li] = loss / f32(T);
  correct_part[li] = correct;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (li < s) {
      loss_part[li] += loss_part[li + s];
      correct_part[li] += correct_part[li + s];
    }
    workgroupBarrier();
  }
  if (li == 0u) {
    let total = max(loss_part[0], 0.0);
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
    metrics[2] += correct_part[0];
    metrics[3] += ctx.rows;
  }
}
