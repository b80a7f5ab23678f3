// The regression losses fused with their gradient (src/ops/regression_loss.ts),
// in f64 like the reference: kind 0 mean_squared_error, 1 mean_absolute_error,
// 2 huber (delta). M rows of W outputs y and float targets t, row-major.

function sign(e: f64): f64 {
  return e > 0 ? 1.0 : e < 0 ? -1.0 : 0.0;
}

/**
 * Adds Σ_rows (1/W) Σ_j l(y − t) to the accumulator: accumulator < 0, the
 * loss's (f64 at metrics + 0, and M to the sample count at metrics + 16);
 * k ≥ 0, metric k's f64 at metrics + 24 + 8k. dy (may be 0): l'(e) / (W · gradScale).
 */
export function regressionLoss(kind: i32, y: usize, t: usize, dy: usize, M: i32, W: i32, delta: f32, gradScale: f64, metrics: usize, accumulator: i32): void {
  const inv = 1.0 / (<f64>W * gradScale);
  const d = <f64>delta;
  let lossSum = 0.0;
  for (let i = 0; i < M; i++) {
    let row = 0.0;
    for (let j = 0; j < W; j++) {
      const o = (<usize>i * <usize>W + <usize>j) << 2;
      const e = <f64>load<f32>(y + o) - <f64>load<f32>(t + o);
      const a = Math.abs(e);
      let l = e * e, slope = 2.0 * e;
      if (kind == 1) {
        l = a; slope = sign(e);
      } else if (kind == 2) {
        if (a <= d) { l = 0.5 * e * e; slope = e; } else { l = d * a - 0.5 * d * d; slope = d * sign(e); }
      }
      row += l;
      if (dy) store<f32>(dy + o, <f32>(slope * inv));
    }
    lossSum += row / <f64>W;
  }
  if (accumulator < 0) {
    store<f64>(metrics, load<f64>(metrics) + lossSum);
    store<f64>(metrics, load<f64>(metrics, 16) + <f64>M, 16);
  } else {
    const at = metrics + 24 + (<usize>accumulator << 3);
    store<f64>(at, load<f64>(at) + lossSum);
  }
}

/** predict: rows of W outputs copied as they are into out (a metric's record, accumulator ≥ 0, copies nothing). */
export function copyOutputs(y: usize, out: usize, M: i32, W: i32, accumulator: i32): void {
  if (accumulator >= 0) return;
  memory.copy(out, y, (<usize>M * <usize>W) << 2);
}
