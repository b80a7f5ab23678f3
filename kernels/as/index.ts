// Tessera's AssemblyScript kernels, compiled by asc (asconfig.json) into
// build/wasm/tessera.wasm (plain SIMD) and tessera-relaxed.wasm (relaxed SIMD).
// Placeholder until the wasm backend lands: one SIMD kernel so the toolchain
// and the embedding are exercised end to end.

/** y[i] = a * x[i] + y[i] for i < n; x and y are f32 arrays at byte offsets. */
export function saxpy(n: i32, a: f32, x: usize, y: usize): void {
  const va = f32x4.splat(a);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(f32x4.mul(va, v128.load(x + o)), v128.load(y + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, a * load<f32>(x + o) + load<f32>(y + o));
  }
}
