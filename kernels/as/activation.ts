// Activation kernels, one export per op (src/ops/<fn>.ts names them): the
// forward (x, y, n[, alpha]) y = F(x) and the backward (dy, x, y, dx,
// n[, alpha]) dx = dy·F'(x) over n f32 values, and the row-wise softmax
// and its backward over M rows of F values. Pointers are byte offsets.
//
// Each elementwise export runs `map1` / `map2` with a class whose inlined
// method `f` is its lane function: the generic is monomorphised and `f`
// inlined, so every export is its own straight SIMD loop (no branch and no
// indirect call per element; a function-valued argument would compile to a
// call_indirect).
// The tail goes through the same lane function on a splat, so its elements
// match the body's bit for bit. ReLU forward is elementwise.ts's `relu`.

import { madd } from './simd';
import { erfc4, exp4, expm1_4, log1p01_4, normalPdf4, phi4, sigmoid4, tanh4, erf4 } from './math';

// @ts-ignore: decorator
@inline function map1<L>(x: usize, y: usize, n: i32, alpha: f32): void {
  const f = changetype<L>(0); // stateless: only its method is used
  const a = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f.f(v128.load(x + o), a));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, f32x4.extract_lane(f.f(f32x4.splat(load<f32>(x + o)), a), 0));
  }
}

// The backward lane function reads dy and one of x and y (`v`, whichever
// the export passes): a load the lane ignored would still be made (a load
// may trap, so the optimizer keeps it) and cost a third of the traffic.
// @ts-ignore: decorator
@inline function map2<L>(dy: usize, v: usize, dx: usize, n: i32, alpha: f32): void {
  const f = changetype<L>(0);
  const a = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, f.f(v128.load(dy + o), v128.load(v + o), a));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, f32x4.extract_lane(f.f(f32x4.splat(load<f32>(dy + o)), f32x4.splat(load<f32>(v + o)), a), 0));
  }
}

// @ts-ignore: decorator
@inline function k(c: f32): v128 {
  return f32x4.splat(c);
}
// @ts-ignore: decorator
@inline function positive(x: v128): v128 {
  return f32x4.gt(x, k(0));
}

// ---- sigmoid: y = 1/(1+e^−x); dx = dy·y·(1−y) ----
class SigmoidLane {
  // @ts-ignore: decorator
  @inline f(v: v128, a: v128): v128 {
    return sigmoid4(v);
  }
}
export function sigmoid(x: usize, y: usize, n: i32): void {
  map1<SigmoidLane>(x, y, n, 0);
}
class SigmoidBackwardLane {
  // @ts-ignore: decorator
  @inline f(g: v128, s: v128, a: v128): v128 {
    return f32x4.mul(g, f32x4.mul(s, f32x4.sub(k(1), s)));
  }
}
export function sigmoidBackward(dy: usize, x: usize, y: usize, dx: usize, n: i32): void {
  map2<SigmoidBackwardLane>(dy, y, dx, n, 0);
}

// ---- tanh: dx = dy·(1 − y)(1 + y) ----
class TanhLane {
  // @ts-ignore: decorator
  @inline f(v: v128, a: v128): v128 {
    return tanh4(v);
  }
}
export function tanh(x: usize, y: usize, n: i32): void {
  map1<TanhLane>(x, y, n, 0);
}
class TanhBackwardLane {
  // @ts-ignore: decorator
  @inline f(g: v128, t: v128, a: v128): v128 {
    return f32x4.mul(g, f32x4.mul(f32x4.sub(k(1), t), f32x4.add(k(1), t))); // 1 − t² without cancelling near |t| = 1
  }
}
export function tanhBackward(dy: usize, x: usize, y: usize, dx: usize, n: i32): void {
  map2<TanhBackwardLane>(dy, y, dx, n, 0);
}

// ---- leaky_relu: y = x > 0 ? x : alpha·x; dx = x > 0 ? dy : alpha·dy ----
class LeakyReluLane {
  // @ts-ignore: decorator
  @inline f(v: v128, a: v128): v128 {
    return v128.bitselect(v, f32x4.mul(a, v), positive(v));
  }
}
export function leakyRelu(x: usize, y: usize, n: i32, alpha: f32): void {
  map1<LeakyReluLane>(x, y, n, alpha);
}
class LeakyReluBackwardLane {
  // @ts-ignore: decorator
  @inline f(g: v128, v: v128, a: v128): v128 {
    return v128.bitselect(g, f32x4.mul(a, g), positive(v));
  }
}
export function leakyReluBackward(dy: usize, x: usize, y: usize, dx: usize, n: i32, alpha: f32): void {
  map2<LeakyReluBackwardLane>(dy, x, dx, n, alpha);
}

// ---- elu: y = x > 0 ? x : alpha·expm1(x); dx = x > 0 ? dy : dy·alpha·e^x ----
class EluLane {
  // @ts-ignore: decorator
  @inline f(v: v128, a: v128): v128 {
    return v128.bitselect(v, f32x4.mul(a, expm1_4(v)), positive(v));
  }
}
export function elu(x: usize, y: usize, n: i32, alpha: f32): void {
  map1<EluLane>(x, y, n, alpha);
}
class EluBackwardLane {
  // @ts-ignore: decorator
  @inline f(g: v128, v: v128, a: v128): v128 {
    return v128.bitselect(g, f32x4.mul(g, f32x4.mul(a, exp4(v))), positive(v));
  }
}
export function eluBackward(dy: usize, x: usize, y: usize, dx: usize, n: i32, alpha: f32): void {
  map2<EluBackwardLane>(dy, x, dx, n, alpha);
}

// ---- gelu (exact): y = x·Φ(x); dx = dy·(Φ(x) + x·φ(x)) ----
class GeluLane {
  // @ts-ignore: decorator
  @inline f(v: v128, a: v128): v128 {
    return f32x4.mul(v, phi4(v));
  }
}
export function gelu(x: usize, y: usize, n: i32): void {
  map1<GeluLane>(x, y, n, 0);
}
class GeluBackwardLane {
  // @ts-ignore: decorator
  @inline f(g: v128, v: v128, a: v128): v128 {
    return f32x4.mul(g, madd(v, normalPdf4(v), phi4(v)));
  }
}
export function geluBackward(dy: usize, x: usize, y: usize, dx: usize, n: i32): void {
  map2<GeluBackwardLane>(dy, x, dx, n, 0);
}

// ---- gelu_tanh: y = x·σ(2u), u = √(2/π)(x + 0.044715x³) (= ½x(1 + tanh u) without its cancellation) ----
// @ts-ignore: decorator
@inline function twoU(v: v128): v128 {
  // 2√(2/π)·(x + 0.044715·x³) = x·(c1 + c3·x²)
  return f32x4.mul(v, madd(k(2 * 0.7978845608028654 * 0.044715), f32x4.mul(v, v), k(2 * 0.7978845608028654)));
}
class GeluTanhLane {
  // @ts-ignore: decorator
  @inline f(v: v128, a: v128): v128 {
    return f32x4.mul(v, sigmoid4(twoU(v)));
  }
}
export function geluTanh(x: usize, y: usize, n: i32): void {
  map1<GeluTanhLane>(x, y, n, 0);
}
class GeluTanhBackwardLane {
  // d/dx x·σ(z) = σ(z) + x·σ(z)·σ(−z)·z',  z = 2u,  z' = 2√(2/π)·(1 + 3·0.044715·x²).
  // From one e = e^(−|z|): σ(|z|) = r = 1/(1 + e), σ(−|z|) = e·r, so the slope e·r²
  // does not cancel for large |z| as σ·(1 − σ) would.
  // @ts-ignore: decorator
  @inline f(g: v128, v: v128, a: v128): v128 {
    const z = twoU(v);
    const e = exp4(f32x4.neg(f32x4.abs(z)));
    const r = f32x4.div(k(1), f32x4.add(k(1), e));
    const er = f32x4.mul(e, r);
    const s = v128.bitselect(r, er, f32x4.ge(z, k(0)));
    const dz = madd(k(2 * 0.7978845608028654 * 3 * 0.044715), f32x4.mul(v, v), k(2 * 0.7978845608028654));
    return f32x4.mul(g, madd(f32x4.mul(v, f32x4.mul(er, r)), dz, s));
  }
}
export function geluTanhBackward(dy: usize, x: usize, y: usize, dx: usize, n: i32): void {
  map2<GeluTanhBackwardLane>(dy, x, dx, n, 0);
}

// ---- silu: y = x·σ(x); dx = dy·(σ(x) + x·σ(x)·σ(−x)) ----
class SiluLane {
  // @ts-ignore: decorator
  @inline f(v: v128, a: v128): v128 {
    return f32x4.mul(v, sigmoid4(v));
  }
}
export function silu(x: usize, y: usize, n: i32): void {
  map1<SiluLane>(x, y, n, 0);
}
class SiluBackwardLane {
  // σ(x) + x·σ(x)·σ(−x), from one e = e^(−|x|) as in gelu_tanh's backward
  // @ts-ignore: decorator
  @inline f(g: v128, v: v128, a: v128): v128 {
    const e = exp4(f32x4.neg(f32x4.abs(v)));
    const r = f32x4.div(k(1), f32x4.add(k(1), e));
    const er = f32x4.mul(e, r);
    const s = v128.bitselect(r, er, f32x4.ge(v, k(0)));
    return f32x4.mul(g, madd(v, f32x4.mul(er, r), s));
  }
}
export function siluBackward(dy: usize, x: usize, y: usize, dx: usize, n: i32): void {
  map2<SiluBackwardLane>(dy, x, dx, n, 0);
}

// ---- softplus: y = max(x, 0) + log1p(e^−|x|); dx = dy·σ(x) ----
class SoftplusLane {
  // @ts-ignore: decorator
  @inline f(v: v128, a: v128): v128 {
    return f32x4.add(f32x4.max(v, k(0)), log1p01_4(exp4(f32x4.neg(f32x4.abs(v)))));
  }
}
export function softplus(x: usize, y: usize, n: i32): void {
  map1<SoftplusLane>(x, y, n, 0);
}
class SoftplusBackwardLane {
  // @ts-ignore: decorator
  @inline f(g: v128, v: v128, a: v128): v128 {
    return f32x4.mul(g, sigmoid4(v));
  }
}
export function softplusBackward(dy: usize, x: usize, y: usize, dx: usize, n: i32): void {
  map2<SoftplusBackwardLane>(dy, x, dx, n, 0);
}

// ---- softmax over rows: three passes (max, exp and sum, scale), 4-lane partial sums ----
export function softmaxRows(x: usize, y: usize, M: i32, F: i32): void {
  const rs = <usize>F << 2;
  for (let r = 0; r < M; r++) {
    const xr = x + <usize>r * rs, yr = y + <usize>r * rs;
    let mx = f32x4.splat(-Infinity);
    let j = 0;
    for (; j + 4 <= F; j += 4) mx = f32x4.max(mx, v128.load(xr + (<usize>j << 2)));
    let m = Mathf.max(Mathf.max(f32x4.extract_lane(mx, 0), f32x4.extract_lane(mx, 1)), Mathf.max(f32x4.extract_lane(mx, 2), f32x4.extract_lane(mx, 3)));
    for (; j < F; j++) m = Mathf.max(m, load<f32>(xr + (<usize>j << 2)));
    const vm = f32x4.splat(m);
    let sum = f32x4.splat(0);
    j = 0;
    for (; j + 4 <= F; j += 4) {
      const e = exp4(f32x4.sub(v128.load(xr + (<usize>j << 2)), vm));
      v128.store(yr + (<usize>j << 2), e);
      sum = f32x4.add(sum, e);
    }
    let s = (f32x4.extract_lane(sum, 0) + f32x4.extract_lane(sum, 1)) + (f32x4.extract_lane(sum, 2) + f32x4.extract_lane(sum, 3));
    for (; j < F; j++) {
      const e = f32x4.extract_lane(exp4(f32x4.splat(load<f32>(xr + (<usize>j << 2)) - m)), 0);
      store<f32>(yr + (<usize>j << 2), e);
      s += e;
    }
    const inv = f32x4.splat(1 / s);
    j = 0;
    for (; j + 4 <= F; j += 4) v128.store(yr + (<usize>j << 2), f32x4.mul(v128.load(yr + (<usize>j << 2)), inv));
    for (; j < F; j++) store<f32>(yr + (<usize>j << 2), load<f32>(yr + (<usize>j << 2)) * (1 / s));
  }
}

/** dx = y·(dy − Σ dy·y) per row. */
export function softmaxBackward(dy: usize, y: usize, dx: usize, M: i32, F: i32): void {
  const rs = <usize>F << 2;
  for (let r = 0; r < M; r++) {
    const o = <usize>r * rs;
    let acc = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= F; j += 4) {
      const p = o + (<usize>j << 2);
      acc = madd(v128.load(dy + p), v128.load(y + p), acc);
    }
    let d = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
    for (; j < F; j++) {
      const p = o + (<usize>j << 2);
      d += load<f32>(dy + p) * load<f32>(y + p);
    }
    const vd = f32x4.splat(d);
    j = 0;
    for (; j + 4 <= F; j += 4) {
      const p = o + (<usize>j << 2);
      v128.store(dx + p, f32x4.mul(v128.load(y + p), f32x4.sub(v128.load(dy + p), vd)));
    }
    for (; j < F; j++) {
      const p = o + (<usize>j << 2);
      store<f32>(dx + p, load<f32>(y + p) * (load<f32>(dy + p) - d));
    }
  }
}

/** e^x and erf(x) over n values, for the accuracy tests of kernels/as/math.ts (no op uses them). */
class VexpLane {
  // @ts-ignore: decorator
  @inline f(v: v128, a: v128): v128 {
    return exp4(v);
  }
}
export function vexp(x: usize, y: usize, n: i32): void {
  map1<VexpLane>(x, y, n, 0);
}
class VerfLane {
  // @ts-ignore: decorator
  @inline f(v: v128, a: v128): v128 {
    return erf4(v);
  }
}
export function verf(x: usize, y: usize, n: i32): void {
  map1<VerfLane>(x, y, n, 0);
}
class VerfcLane {
  // @ts-ignore: decorator
  @inline f(v: v128, a: v128): v128 {
    return erfc4(f32x4.abs(v));
  }
}
export function verfc(x: usize, y: usize, n: i32): void {
  map1<VerfcLane>(x, y, n, 0);
}
