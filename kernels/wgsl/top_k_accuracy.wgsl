// top_k_accuracy.wgsl — top_k_categorical_accuracy: the count of rows whose
// class is among the K highest logits, accumulated on the device.
//
// Bindings (group 0):
//   0 ctx      uniform Ctx (prelude): rows = M
//   1 logits   storage read  array<f32>  [M × C]
//   2 labels   storage read  array<u32>  [M] class indices
//   3 metrics  storage rw    array<u32, 4> the metric's accumulator, added to:
//                [0] integer part, [1] fraction in units of 2^-24 (a count:
//                always 0), [3] rows seen
// Overrides: C, K.
// A row counts when fewer than K logits are strictly greater than the
// label's (Keras in_top_k: ties at the K-th value count as in).
// Dispatch: exactly one workgroup of 64 (rows are strided over it).
override C: u32;
override K: u32;

@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> metrics: array<u32, 4>;

var<workgroup> count_part: array<u32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32) {
  let M = ctx.rows;
  var count = 0u;
  for (var r = li; r < M; r += 64u) {
    let o = r * C;
    let zl = logits[o + min(labels[r], C - 1u)];
    var above = 0u;
    for (var c = 0u; c < C; c++) {
      if (logits[o + c] > zl) {
        above += 1u;
      }
    }
    if (above < K) {
      count += 1u;
    }
  }
  count_part[li] = count;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (li < s) {
      count_part[li] += count_part[li + s];
    }
    workgroupBarrier();
  }
  if (li == 0u) {
    metrics[0] += count_part[0];
    metrics[3] += M;
  }
}
