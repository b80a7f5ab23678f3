// dense_forward_vec4.wgsl — Y = X·W + b with an optional fused ReLU epilogue,
// for K and N multiples of 4 (the flagship's 784×128 layer). The backend
// picks it over dense_forward.wgsl whenever the shapes allow.
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows = M
//   1 x     storage read  array<vec4<f32>>  X [M × K] row-major (K/4 vec4 per row)
//   2 w     storage read  array<vec4<f32>>  W [K × N] row-major (N/4 vec4 per row)
//   3 b     storage read  array<vec4<f32>>  b [N] (ignored unless HAS_BIAS; bind
//                                           any buffer of ≥ 16 bytes)
//   4 y     storage rw    array<vec4<f32>>  Y [M × N] row-major
// Overrides: K, N (both multiples of 4), HAS_BIAS, RELU, WG_X × WG_Y ≤ 128.
// Each invocation computes an 8-row × 4-column block of Y (rows 8·gid.y…,
// columns 4·gid.x…) in eight vec4 accumulators. Per step of 4 along K it
// loads 4 vec4 rows of W and one vec4 of each of its 8 X rows: 12 vector
// loads for 128 multiply-adds, no workgroup memory and no barriers.
// Dispatch: (ceil((N/4) / WG_X), ceil(ceil(M/8) / WG_Y)) workgroups.
//
// Measured on Mesa llvmpipe (bench/webgpu-kernels.ts, 32×784×128): 8×4
// blocks ~1.35× faster than 4×4, ~1.6× faster than scalar loads
// (dense_forward.wgsl) and ~4× faster than the workgroup-memory tiled
// variant (dense_forward_tiled.wgsl). llvmpipe runs a workgroup's
// invocations as SIMD lanes of one CPU thread: every storage load is a
// per-lane gather, workgroup memory and barriers buy no reuse, so what pays
// is more multiply-adds per load (registers spill cheaply by comparison).
// Positions per example (a dense layer on a sequence): M = ctx.rows · SEQ.
override SEQ: u32 = 1u;
override K: u32;
override N: u32;
override HAS_BIAS: bool = true;
override RELU: bool = false;
override WG_X: u32 = 16u;
override WG_Y: u32 = 4u;

@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> y: array<vec4<f32>>;

fn epilogue(v: vec4<f32>) -> vec4<f32> {
  if (RELU) {
    return select(vec4<f32>(0.0), v, v > vec4<f32>(0.0));
  }
  return v;
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let M = ctx.rows * SEQ;
  let N4 = N / 4u;
  let K4 = K / 4u;
  let c = gid.x;
  let r0 = gid.y * 8u;
  if (c >= N4 || r0 >= M) {
    return;
  }
  var xo: array<u32, 8>;
  for (var i = 0u; i < 8u; i++) {
    xo[i] = min(r0 + i, M - 1u) * K4;
  }
  var init = vec4<f32>(0.0);
  if (HAS_BIAS) {
    init = b[c];
  }
  var a: array<vec4<f32>, 8>;
  for (var i = 0u; i < 8u; i++) {
    a[i] = init;
  }
  for (var k = 0u; k < K4; k++) {
    let wo = k * 4u * N4 + c;
    let w0 = w[wo];
    let w1 = w[wo + N4];
    let w2 = w[wo + 2u * N4];
    let w3 = w[wo + 3u * N4];
    for (var i = 0u; i < 8u; i++) {
      let v = x[xo[i] + k];
      a[i] += v.x * w0 + v.y * w1 + v.z * w2 + v.w * w3;
    }
  }
  for (var i = 0u; i < 8u; i++) {
    if (r0 + i < M) {
      y[(r0 + i) * N4 + c] = epilogue(a[i]);
    }
  }
}
