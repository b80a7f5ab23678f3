// dense_forward_wasm.ts — a custom dense_forward for Tessera's wasm backend,
// in AssemblyScript: Y = X·W + b, then ReLU when relu != 0.
// Contract: docs/kernels.md ("Writing your own kernel (AssemblyScript)").
//
// Tessera compiles this file itself (asc --runtime stub --enable simd -O3
// --importMemory --memoryBase …): it shares the wasm backend's memory, and
// every pointer below is a byte offset into it. Matrices are row-major f32:
// X is [M×K], W is [K×N], b is [N] (b == 0: no bias), Y is [M×N]. The
// function overwrites Y and allocates nothing.
//
// Tiling: a block of 4 rows × 4 columns of Y lives in four f32x4
// accumulators (the built-in kernel uses 4×8 blocks with eight); per step t
// of the sum it loads one f32x4 of W's row t and broadcasts four values of
// X. Leftover rows go one at a time, leftover columns (N not a multiple of
// 4) are scalar. Terms are added in ascending t starting from the bias, as
// the reference does.
//
//   tessera bench --backend wasm --op dense_forward --kernel dense_forward=examples/custom-kernel/dense_forward_wasm.ts

export function dense_forward(x: usize, w: usize, b: usize, y: usize, M: i32, K: i32, N: i32, relu: i32, sparse: i32): void {
  // `sparse` says X has many zeros (the pixel input); the result must not depend on it. Ignored here.
  const xRow = <usize>K << 2; // bytes per row of X
  const wRow = <usize>N << 2; // bytes per row of W and of Y
  const n4 = N & ~3;
  let r = 0;
  for (; r + 4 <= M; r += 4) {
    const xr = x + <usize>r * xRow;
    const yr = y + <usize>r * wRow;
    for (let c = 0; c < n4; c += 4) block4x4(xr, xRow, w + (<usize>c << 2), wRow, K, b ? b + (<usize>c << 2) : 0, yr + (<usize>c << 2), relu);
    for (let c = n4; c < N; c++) {
      for (let i = 0; i < 4; i++) column1(xr + <usize>i * xRow, w + (<usize>c << 2), wRow, K, b ? b + (<usize>c << 2) : 0, yr + <usize>i * wRow + (<usize>c << 2), relu);
    }
  }
  for (; r < M; r++) {
    const xr = x + <usize>r * xRow;
    const yr = y + <usize>r * wRow;
    for (let c = 0; c < n4; c += 4) row1x4(xr, w + (<usize>c << 2), wRow, K, b ? b + (<usize>c << 2) : 0, yr + (<usize>c << 2), relu);
    for (let c = n4; c < N; c++) column1(xr, w + (<usize>c << 2), wRow, K, b ? b + (<usize>c << 2) : 0, yr + (<usize>c << 2), relu);
  }
}

/** ReLU on four lanes: keeps lanes > 0, else +0 (NaN and -0 become +0, as in the reference). */
// @ts-ignore: decorator
@inline function relu4(v: v128): v128 {
  return v128.and(v, f32x4.gt(v, f32x4.splat(0)));
}

/** Y[0..4, 0..4] of a block: x points at row 0 of X, w and bias at column 0 of the block, y at Y's block. */
function block4x4(x: usize, xRow: usize, w: usize, wRow: usize, K: i32, bias: usize, y: usize, relu: i32): void {
  const init = bias ? v128.load(bias) : f32x4.splat(0);
  let acc0 = init, acc1 = init, acc2 = init, acc3 = init;
  let x0 = x, x1 = x + xRow, x2 = x + 2 * xRow, x3 = x + 3 * xRow;
  for (let t = 0; t < K; t++) {
    const wv = v128.load(w);
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load32_splat(x0), wv));
    acc1 = f32x4.add(acc1, f32x4.mul(v128.load32_splat(x1), wv));
    acc2 = f32x4.add(acc2, f32x4.mul(v128.load32_splat(x2), wv));
    acc3 = f32x4.add(acc3, f32x4.mul(v128.load32_splat(x3), wv));
    x0 += 4; x1 += 4; x2 += 4; x3 += 4; w += wRow;
  }
  if (relu) { acc0 = relu4(acc0); acc1 = relu4(acc1); acc2 = relu4(acc2); acc3 = relu4(acc3); }
  v128.store(y, acc0);
  v128.store(y + wRow, acc1);
  v128.store(y + 2 * wRow, acc2);
  v128.store(y + 3 * wRow, acc3);
}

/** Four columns of one row. */
function row1x4(x: usize, w: usize, wRow: usize, K: i32, bias: usize, y: usize, relu: i32): void {
  let acc = bias ? v128.load(bias) : f32x4.splat(0);
  for (let t = 0; t < K; t++) {
    acc = f32x4.add(acc, f32x4.mul(v128.load32_splat(x), v128.load(w)));
    x += 4; w += wRow;
  }
  v128.store(y, relu ? relu4(acc) : acc);
}

/** One element: a leftover column. */
function column1(x: usize, w: usize, wRow: usize, K: i32, bias: usize, y: usize, relu: i32): void {
  let acc: f32 = bias ? load<f32>(bias) : 0;
  for (let t = 0; t < K; t++) {
    acc += load<f32>(x) * load<f32>(w);
    x += 4; w += wRow;
  }
  store<f32>(y, relu ? (acc > 0 ? acc : 0) : acc);
}
