// Fused Adam (Keras semantics) over n f32 values:
//   m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²;  p -= alpha·m / (sqrt(v) + ε)
// alpha = adamStepSize(t), computed here in f64 exactly as the reference
// computes it on the host, so one exported call can run many steps.
import { madd } from './simd';

export function adamStepSize(lr: f64, beta1: f64, beta2: f64, t: f64): f64 {
  return (lr * Math.sqrt(1 - Math.pow(beta2, t))) / (1 - Math.pow(beta1, t));
}

export function adam(p: usize, g: usize, m: usize, v: usize, n: i32, alpha: f64, beta1: f64, beta2: f64, epsilon: f64): void {
  const b1 = <f32>beta1, b2 = <f32>beta2, b1c = <f32>(1 - beta1), b2c = <f32>(1 - beta2);
  const a = <f32>alpha, eps = <f32>epsilon;
  const vb1 = f32x4.splat(b1), vb2 = f32x4.splat(b2), vb1c = f32x4.splat(b1c), vb2c = f32x4.splat(b2c);
  const va = f32x4.splat(a), veps = f32x4.splat(eps);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gi = v128.load(g + o);
    const mi = madd(vb1, v128.load(m + o), f32x4.mul(vb1c, gi));
    const vi = madd(vb2, v128.load(v + o), f32x4.mul(f32x4.mul(vb2c, gi), gi));
    v128.store(m + o, mi);
    v128.store(v + o, vi);
    const step = f32x4.div(f32x4.mul(va, mi), f32x4.add(f32x4.sqrt(vi), veps));
    v128.store(p + o, f32x4.sub(v128.load(p + o), step));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const mi = b1 * load<f32>(m + o) + b1c * gi;
    const vi = b2 * load<f32>(v + o) + b2c * gi * gi;
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    store<f32>(p + o, load<f32>(p + o) - (a * mi) / (Mathf.sqrt(vi) + eps));
  }
}
