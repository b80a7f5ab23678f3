// The merge layers' kernels (add, subtract, multiply, concatenate) and
// scale, their backward. Contracts:
//   add/subtract/multiply(a, b, y, n)   y[i] = a[i] ∘ b[i], i < n; f32 arrays of n values
//   scale(x, y, n, s)                   y[i] = s · x[i]
//   concat(a, b, y, blocks, wa, wb)     y[o, :] = [a[o, 0:wa], b[o, 0:wb]], o < blocks
//                                       (a: blocks × wa, b: blocks × wb, y: blocks × (wa + wb))
//   split(dy, da, db, blocks, wa, wb)   the inverse of concat
// Pointers are byte offsets; no alignment beyond 4 bytes is assumed.

export function add(a: usize, b: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(a + o) + load<f32>(b + o));
  }
}

export function subtract(a: usize, b: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.sub(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(a + o) - load<f32>(b + o));
  }
}

export function multiply(a: usize, b: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(a + o) * load<f32>(b + o));
  }
}

export function scale(x: usize, y: usize, n: i32, s: f32): void {
  const vs = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.mul(v128.load(x + o), vs));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(x + o) * s);
  }
}

/** Copies `count` floats from src to dst, four at a time. */
function copyFloats(src: usize, dst: usize, count: i32): void {
  let j = 0;
  for (; j + 4 <= count; j += 4) v128.store(dst + (<usize>j << 2), v128.load(src + (<usize>j << 2)));
  for (; j < count; j++) store<f32>(dst + (<usize>j << 2), load<f32>(src + (<usize>j << 2)));
}

export function concat(a: usize, b: usize, y: usize, blocks: i32, wa: i32, wb: i32): void {
  const w = wa + wb;
  for (let o = 0; o < blocks; o++) {
    const dst = y + (<usize>(o * w) << 2);
    copyFloats(a + (<usize>(o * wa) << 2), dst, wa);
    copyFloats(b + (<usize>(o * wb) << 2), dst + (<usize>wa << 2), wb);
  }
}

export function split(dy: usize, da: usize, db: usize, blocks: i32, wa: i32, wb: i32): void {
  const w = wa + wb;
  for (let o = 0; o < blocks; o++) {
    const src = dy + (<usize>(o * w) << 2);
    copyFloats(src, da + (<usize>(o * wa) << 2), wa);
    copyFloats(src + (<usize>wa << 2), db + (<usize>(o * wb) << 2), wb);
  }
}
