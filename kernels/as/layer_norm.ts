// Layer normalization over the last axis, forward and fused backward.
// Contracts (f32 arrays, row-major; pointers are byte offsets, no alignment
// beyond 4 bytes assumed; gamma, beta, dgamma, dbeta may be 0 = absent):
//   layerNorm(x, gamma, beta, y, mean, rstd, n, D, epsilon)
//     x, y: n × D; gamma, beta: D; mean, rstd: n. Per vector v:
//     mean[v] = Σx/D, rstd[v] = 1/√(Σ(x − mean)²/D + ε), y = (x − mean)·rstd·γ + β
//   layerNormBackward(dy, x, gamma, mean, rstd, dx, dgamma, dbeta, n, D)
//     x̂ = (x − mean[v])·rstd[v], g = dy·γ; dx = rstd·(g − Σg/D − x̂·Σ(g·x̂)/D);
//     dgamma = Σ_v dy·x̂, dbeta = Σ_v dy, vectors in order (both overwritten)
// Sums are f32: four lanes then the lanes added, the tail after.

/** (l0 + l1) + (l2 + l3). */
// @ts-ignore: decorator
@inline function lanes(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

export function layerNorm(x: usize, gamma: usize, beta: usize, y: usize, mean: usize, rstd: usize, n: i32, D: i32, epsilon: f32): void {
  const rowBytes = <usize>D << 2;
  const invD = <f32>1 / <f32>D;
  for (let v = 0; v < n; v++) {
    const xv = x + <usize>v * rowBytes, yv = y + <usize>v * rowBytes;
    let acc = f32x4.splat(0);
    let d = 0;
    for (; d + 4 <= D; d += 4) acc = f32x4.add(acc, v128.load(xv + (<usize>d << 2)));
    let s = lanes(acc);
    for (; d < D; d++) s += load<f32>(xv + (<usize>d << 2));
    const mu = s * invD;
    const vmu = f32x4.splat(mu);
    acc = f32x4.splat(0);
    for (d = 0; d + 4 <= D; d += 4) {
      const c = f32x4.sub(v128.load(xv + (<usize>d << 2)), vmu);
      acc = f32x4.add(acc, f32x4.mul(c, c));
    }
    let q = lanes(acc);
    for (; d < D; d++) {
      const c = load<f32>(xv + (<usize>d << 2)) - mu;
      q += c * c;
    }
    const r = <f32>1 / Mathf.sqrt(q * invD + epsilon);
    store<f32>(mean + (<usize>v << 2), mu);
    store<f32>(rstd + (<usize>v << 2), r);
    const vr = f32x4.splat(r);
    for (d = 0; d + 4 <= D; d += 4) {
      const o = <usize>d << 2;
      let t = f32x4.mul(f32x4.sub(v128.load(xv + o), vmu), vr);
      if (gamma) t = f32x4.mul(t, v128.load(gamma + o));
      if (beta) t = f32x4.add(t, v128.load(beta + o));
      v128.store(yv + o, t);
    }
    for (; d < D; d++) {
      const o = <usize>d << 2;
      let t = (load<f32>(xv + o) - mu) * r;
      if (gamma) t *= load<f32>(gamma + o);
      if (beta) t += load<f32>(beta + o);
      store<f32>(yv + o, t);
    }
  }
}

export function layerNormBackward(dy: usize, x: usize, gamma: usize, mean: usize, rstd: usize, dx: usize, dgamma: usize, dbeta: usize, n: i32, D: i32): void {
  const rowBytes = <usize>D << 2;
  const invD = <f32>1 / <f32>D;
  if (dgamma) memory.fill(dgamma, 0, rowBytes);
  if (dbeta) memory.fill(dbeta, 0, rowBytes);
  const one = f32x4.splat(1);
  for (let v = 0; v < n; v++) {
    const xv = x + <usize>v * rowBytes, dyv = dy + <usize>v * rowBytes, dxv = dx + <usize>v * rowBytes;
    const mu = load<f32>(mean + (<usize>v << 2)), r = load<f32>(rstd + (<usize>v << 2));
    const vmu = f32x4.splat(mu), vr = f32x4.splat(r);
    // Pass 1: Σg, Σg·x̂, and this vector's terms of dγ and dβ.
    let accA = f32x4.splat(0), accB = f32x4.splat(0);
    let d = 0;
    for (; d + 4 <= D; d += 4) {
      const o = <usize>d << 2;
      const xh = f32x4.mul(f32x4.sub(v128.load(xv + o), vmu), vr), g0 = v128.load(dyv + o);
      const g = f32x4.mul(g0, gamma ? v128.load(gamma + o) : one);
      accA = f32x4.add(accA, g);
      accB = f32x4.add(accB, f32x4.mul(g, xh));
      if (dgamma) v128.store(dgamma + o, f32x4.add(v128.load(dgamma + o), f32x4.mul(g0, xh)));
      if (dbeta) v128.store(dbeta + o, f32x4.add(v128.load(dbeta + o), g0));
    }
    let a = lanes(accA), b = lanes(accB);
    for (; d < D; d++) {
      const o = <usize>d << 2;
      const xh = (load<f32>(xv + o) - mu) * r, g0 = load<f32>(dyv + o);
      const g = gamma ? g0 * load<f32>(gamma + o) : g0;
      a += g;
      b += g * xh;
      if (dgamma) store<f32>(dgamma + o, load<f32>(dgamma + o) + g0 * xh);
      if (dbeta) store<f32>(dbeta + o, load<f32>(dbeta + o) + g0);
    }
    a *= invD;
    b *= invD;
    // Pass 2: dx.
    const va = f32x4.splat(a), vb = f32x4.splat(b);
    for (d = 0; d + 4 <= D; d += 4) {
      const o = <usize>d << 2;
      const xh = f32x4.mul(f32x4.sub(v128.load(xv + o), vmu), vr);
      const g = f32x4.mul(v128.load(dyv + o), gamma ? v128.load(gamma + o) : one);
      v128.store(dxv + o, f32x4.mul(vr, f32x4.sub(f32x4.sub(g, va), f32x4.mul(xh, vb))));
    }
    for (; d < D; d++) {
      const o = <usize>d << 2;
      const xh = (load<f32>(xv + o) - mu) * r, g0 = load<f32>(dyv + o);
      const g = gamma ? g0 * load<f32>(gamma + o) : g0;
      store<f32>(dxv + o, r * (g - a - xh * b));
    }
  }
}

/**
 * dgamma and dbeta of layerNormBackward for the features [d0, d1) only (d0 a
 * multiple of 4): the same terms, vectors in order, so a share of the
 * features computes them exactly as the whole kernel (the threads build;
 * its dX comes from layerNormBackward with both 0, by rows).
 */
export function layerNormParamGrads(dy: usize, x: usize, gamma: usize, mean: usize, rstd: usize, dgamma: usize, dbeta: usize, n: i32, D: i32, d0: i32, d1: i32): void {
  const rowBytes = <usize>D << 2, o0 = <usize>d0 << 2, bytes = <usize>(d1 - d0) << 2;
  if (dgamma) memory.fill(dgamma + o0, 0, bytes);
  if (dbeta) memory.fill(dbeta + o0, 0, bytes);
  for (let v = 0; v < n; v++) {
    const xv = x + <usize>v * rowBytes, dyv = dy + <usize>v * rowBytes;
    const mu = load<f32>(mean + (<usize>v << 2)), r = load<f32>(rstd + (<usize>v << 2));
    const vmu = f32x4.splat(mu), vr = f32x4.splat(r);
    let d = d0;
    for (; d + 4 <= d1; d += 4) {
      const o = <usize>d << 2;
      const xh = f32x4.mul(f32x4.sub(v128.load(xv + o), vmu), vr), g0 = v128.load(dyv + o);
      if (dgamma) v128.store(dgamma + o, f32x4.add(v128.load(dgamma + o), f32x4.mul(g0, xh)));
      if (dbeta) v128.store(dbeta + o, f32x4.add(v128.load(dbeta + o), g0));
    }
    for (; d < d1; d++) {
      const o = <usize>d << 2;
      const xh = (load<f32>(xv + o) - mu) * r, g0 = load<f32>(dyv + o);
      if (dgamma) store<f32>(dgamma + o, load<f32>(dgamma + o) + g0 * xh);
      if (dbeta) store<f32>(dbeta + o, load<f32>(dbeta + o) + g0);
    }
  }
}
