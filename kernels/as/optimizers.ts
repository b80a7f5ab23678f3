// Fused optimizer updates (Keras 3 formulas) over n f32 values of one
// parameter p and its gradient g; state buffers are 0 where the optimizer
// keeps none (SGD without momentum, RMSprop's momentum and centred mean).
// lr is the step's learning rate (host-computed f64, rounded to f32 here as
// the WGSL kernels read it); alpha is Adam's bias-corrected step size.
//
//   sgd      m = μ·m − lr·g;  p += nesterov ? μ·m − lr·g : m   (no m: p −= lr·g)
//   adamw    p −= p·(lr·wd) (decoupled decay, first); m = β1·m + (1−β1)·g;
//            v = β2·v + (1−β2)·g²;  vhat = max(vhat, v) when amsgrad (vhat ≠ 0);
//            p −= alpha·m / (√(vhat or v) + ε)
//   rmsprop  v = ρ·v + (1−ρ)·g²;  centred: mg = ρ·mg + (1−ρ)·g, d = v − mg² + ε,
//            else d = v + ε;  inc = lr·g / √d;  momentum: mom = μ·mom + inc,
//            p −= mom; else p −= inc
// Scalar loops: the updates are memory-bound and a small share of a step.

export function sgd(p: usize, g: usize, m: usize, n: i32, lr: f32, momentum: f32, nesterov: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    if (m == 0) {
      store<f32>(p + o, load<f32>(p + o) - gi * lr);
      continue;
    }
    const mi = -gi * lr + load<f32>(m + o) * momentum;
    store<f32>(m + o, mi);
    store<f32>(p + o, load<f32>(p + o) + (nesterov ? -gi * lr + mi * momentum : mi));
  }
}

export function adamw(
  p: usize, g: usize, m: usize, v: usize, vhat: usize, n: i32,
  alpha: f64, beta1: f64, beta2: f64, epsilon: f64, lr: f32, weightDecay: f32,
): void {
  const b1 = <f32>beta1, b2 = <f32>beta2, b1c = <f32>(1 - beta1), b2c = <f32>(1 - beta2);
  const a = <f32>alpha, eps = <f32>epsilon, decay = lr * weightDecay;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    let pi = load<f32>(p + o);
    pi = pi - pi * decay;
    const mi = b1 * load<f32>(m + o) + b1c * gi;
    let vi = b2 * load<f32>(v + o) + b2c * gi * gi;
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    if (vhat != 0) {
      vi = max(load<f32>(vhat + o), vi);
      store<f32>(vhat + o, vi);
    }
    store<f32>(p + o, pi - (a * mi) / (Mathf.sqrt(vi) + eps));
  }
}

export function rmsprop(
  p: usize, g: usize, v: usize, mom: usize, mg: usize, n: i32,
  lr: f32, rho: f32, momentum: f32, epsilon: f32,
): void {
  const rc: f32 = 1 - rho;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const vi = rho * load<f32>(v + o) + rc * gi * gi;
    store<f32>(v + o, vi);
    let d = vi + epsilon;
    if (mg != 0) {
      const mgi = rho * load<f32>(mg + o) + rc * gi;
      store<f32>(mg + o, mgi);
      d = vi - mgi * mgi + epsilon;
    }
    const inc = (lr * gi) / Mathf.sqrt(d);
    if (mom != 0) {
      const mi = momentum * load<f32>(mom + o) + inc;
      store<f32>(mom + o, mi);
      store<f32>(p + o, load<f32>(p + o) - mi);
    } else {
      store<f32>(p + o, load<f32>(p + o) - inc);
    }
  }
}
