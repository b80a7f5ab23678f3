// The two row statistics every softmax loss starts from (softmax_xent,
// categorical_crossentropy, sequence_xent, and their threads-build row
// forms), in the references' order: the first maximum logit's class, and
// Σ exp(z − max) in f64 in class order. One copy, so the losses cannot drift
// apart by a summation order. A row is C f32 logits at address o.

/** The class of the row's first maximum (a later equal logit, or a NaN, never wins the comparison). */
@inline export function rowArgmax(o: usize, C: i32): i32 {
  let max = load<f32>(o), arg = 0;
  for (let c = 1; c < C; c++) {
    const v = load<f32>(o + (<usize>c << 2));
    if (v > max) { max = v; arg = c; }
  }
  return arg;
}

/** Σ_c exp(z_c − mx) over the row's C logits, in f64, class by class. */
@inline export function rowExpSum(o: usize, C: i32, mx: f64): f64 {
  let sum = 0.0;
  for (let c = 0; c < C; c++) sum += Math.exp(<f64>load<f32>(o + (<usize>c << 2)) - mx);
  return sum;
}
