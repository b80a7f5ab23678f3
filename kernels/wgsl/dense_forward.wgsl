// dense_forward.wgsl — Y = X·W + b with an optional fused ReLU epilogue.
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows = M
//   1 x     storage read  array<f32>  X [M × K] row-major
//   2 w     storage read  array<f32>  W [K × N] row-major (Keras kernel layout)
//   3 b     storage read  array<f32>  b [N] (ignored when HAS_BIAS is false;
//                                     bind any buffer)
//   4 y     storage rw    array<f32>  Y [M × N] row-major
// Overrides: K, N, HAS_BIAS, RELU (ReLU as the reference: y > 0 ? y : 0, so
//   NaN becomes 0), WG_X × WG_Y ≤ 128 the workgroup shape.
// Dispatch: (ceil(ceil(N/4) / WG_X), ceil(ceil(M/4) / WG_Y)) workgroups.
//
// Register blocking without workgroup memory: each invocation computes a
// 4×4 block of Y (rows 4·gid.y…, columns 4·gid.x…) in four vec4
// accumulators, streaming one column of X and one vec4 row slice of W per k.
// Out-of-range rows/columns are clamped on load and skipped on store.
// On Mesa llvmpipe this barrier-free kernel measured faster than the
// workgroup-memory tiled variant (dense_forward_tiled.wgsl): see
// bench/webgpu-kernels.ts and BENCHMARKS.md.
// Positions per example (a dense layer on a sequence): M = ctx.rows · SEQ.
override SEQ: u32 = 1u;
override K: u32;
override N: u32;
override HAS_BIAS: bool = true;
override RELU: bool = false;
override WG_X: u32 = 16u;
override WG_Y: u32 = 4u;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

fn epilogue(v: f32) -> f32 {
  if (RELU) {
    return select(0.0, v, v > 0.0);
  }
  return v;
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let M = ctx.rows * SEQ;
  let c0 = gid.x * 4u;
  let r0 = gid.y * 4u;
  if (c0 >= N || r0 >= M) {
    return;
  }
  // Clamped column and row indices: loads stay in range, stores are guarded.
  let c = vec4<u32>(c0, min(c0 + 1u, N - 1u), min(c0 + 2u, N - 1u), min(c0 + 3u, N - 1u));
  let xr0 = r0 * K;
  let xr1 = min(r0 + 1u, M - 1u) * K;
  let xr2 = min(r0 + 2u, M - 1u) * K;
  let xr3 = min(r0 + 3u, M - 1u) * K;
  var init = vec4<f32>(0.0);
  if (HAS_BIAS) {
    init = vec4<f32>(b[c.x], b[c.y], b[c.z], b[c.w]);
  }
  var a0 = init;
  var a1 = init;
  var a2 = init;
  var a3 = init;
  for (var k = 0u; k < K; k++) {
    let wo = k * N;
    var wv: vec4<f32>;
    if (N % 4u == 0u) {
      wv = vec4<f32>(w[wo + c0], w[wo + c0 + 1u], w[wo + c0 + 2u], w[wo + c0 + 3u]);
    } else {
      wv = vec4<f32>(w[wo + c.x], w[wo + c.y], w[wo + c.z], w[wo + c.w]);
    }
    a0 += x[xr0 + k] * wv;
    a1 += x[xr1 + k] * wv;
    a2 += x[xr2 + k] * wv;
    a3 += x[xr3 + k] * wv;
  }
  let acc = array<vec4<f32>, 4>(a0, a1, a2, a3);
  for (var i = 0u; i < 4u; i++) {
    let r = r0 + i;
    if (r < M) {
      let o = r * N + c0;
      let v = acc[i];
      y[o] = epilogue(v.x);
      if (c0 + 1u < N) { y[o + 1u] = epilogue(v.y); }
      if (c0 + 2u < N) { y[o + 2u] = epilogue(v.z); }
      if (c0 + 3u < N) { y[o + 3u] = epilogue(v.w); }
    }
  }
}
