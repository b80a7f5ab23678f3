// Gradient preparation before the optimizer's update (src/ops/grad_*.ts),
// over n f32 values of one parameter's gradient g, in place:
//   gradPrep  g = clamp(g + l1·sign(p) + 2·l2·p, ±clipvalue)  (clipvalue 0: none)
//   gradNorm  out[0] = (accumulate ? out[0] : 0) + Σ g²      (f64 sum)
//   gradClip  g ·= clipnorm / max(√norm[0], clipnorm)
//   regPenalty  metrics.lossSum += rows · (l1·Σ|p| + l2·Σp²)  (f64 sums)

export function gradPrep(p: usize, g: usize, n: i32, l1: f32, l2: f32, clipvalue: f32): void {
  const l2x2: f32 = 2 * l2;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const pi = load<f32>(p + o);
    let gi = load<f32>(g + o) + l1 * Mathf.sign(pi) + l2x2 * pi;
    if (clipvalue > 0) gi = min(clipvalue, max(-clipvalue, gi));
    store<f32>(g + o, gi);
  }
}

export function gradNorm(g: usize, out: usize, n: i32, accumulate: i32): void {
  let s: f64 = accumulate ? <f64>load<f32>(out) : 0;
  for (let i = 0; i < n; i++) {
    const gi = <f64>load<f32>(g + (<usize>i << 2));
    s += gi * gi;
  }
  store<f32>(out, <f32>s);
}

export function gradClip(g: usize, norm: usize, n: i32, clipnorm: f32): void {
  const scale = clipnorm / max(Mathf.sqrt(load<f32>(norm)), clipnorm);
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(g + o, load<f32>(g + o) * scale);
  }
}

/** The L1L2 penalty of p, times the batch's rows, added to the f64 loss sum at metrics (reg_penalty). */
export function regPenalty(p: usize, n: i32, l1: f32, l2: f32, rows: i32, metrics: usize): void {
  let a: f64 = 0, s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const pi = <f64>load<f32>(p + (<usize>i << 2));
    a += Math.abs(pi);
    s += pi * pi;
  }
  store<f64>(metrics, load<f64>(metrics) + <f64>rows * (<f64>l1 * a + <f64>l2 * s));
}
