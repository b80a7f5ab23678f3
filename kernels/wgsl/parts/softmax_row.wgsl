// parts/softmax_row.wgsl — shared part (not a kernel) of the softmax
// cross-entropy kernels softmax_xent, categorical_crossentropy and
// sequence_xent, pulled in by their `// uses: softmax_row` line
// (src/runtime/webgpu/kernels.ts).
//
// Expects the kernel to declare `logits: array<f32>` (storage) and the
// override C (classes). Declares:
//   softmax_row(o)  of the C logits at logits[o …]: mx, the maximum; arg, the
//     first index of it (the predicted class); sum = Σ exp(z − mx), summed in
//     class order (so softmax is exp(z − mx) / sum, log Σ exp z = log(sum) + mx)
struct SoftmaxRow {
  mx: f32,
  arg: u32,
  sum: f32,
}

fn softmax_row(o: u32) -> SoftmaxRow {
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
  return SoftmaxRow(mx, arg, sum);
}
