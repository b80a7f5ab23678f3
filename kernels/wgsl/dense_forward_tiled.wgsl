// dense_forward_tiled.wgsl — Y = X·W + b (+ ReLU), workgroup-memory tiling.
// The alternative to dense_forward.wgsl, kept for benchmarking and for GPUs
// where shared-memory tiling pays (select with the backend option
// `denseForward: 'tiled'`). Same contract as dense_forward.wgsl:
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows = M
//   1 x     storage read  array<f32>  X [M × K] row-major
//   2 w     storage read  array<f32>  W [K × N] row-major
//   3 b     storage read  array<f32>  b [N] (ignored unless HAS_BIAS)
//   4 y     storage rw    array<f32>  Y [M × N] row-major
// Overrides: K, N, HAS_BIAS, RELU.
// Workgroup 16 × 8 = 128 invocations computes a 32-row × 64-column tile of
// Y, each invocation a 4×4 block in vec4 registers; per 16-wide slice of K
// the workgroup stages X[32 × 16] and W[16 × 64] in workgroup memory (6 KiB).
// Dispatch: (ceil(N / 64), ceil(M / 32)) workgroups.
// Positions per example (a dense layer on a sequence): M = ctx.rows · SEQ.
override SEQ: u32 = 1u;
override K: u32;
override N: u32;
override HAS_BIAS: bool = true;
override RELU: bool = false;

const TM = 32u;
const TN = 64u;
const TK = 16u;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

var<workgroup> xs: array<f32, 512>;   // [TM][TK]
var<workgroup> ws: array<vec4<f32>, 256>; // [TK][TN / 4]

fn epilogue(v: f32) -> f32 {
  if (RELU) {
    return select(0.0, v, v > 0.0);
  }
  return v;
}

@compute @workgroup_size(16, 8)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let M = ctx.rows * SEQ;
  let tr0 = wid.y * TM;
  let tc0 = wid.x * TN;
  let li = lid.y * 16u + lid.x;
  let c0 = tc0 + lid.x * 4u;
  let r0 = tr0 + lid.y * 4u;
  var init = vec4<f32>(0.0);
  if (HAS_BIAS) {
    init = vec4<f32>(b[min(c0, N - 1u)], b[min(c0 + 1u, N - 1u)], b[min(c0 + 2u, N - 1u)], b[min(c0 + 3u, N - 1u)]);
  }
  var a0 = init;
  var a1 = init;
  var a2 = init;
  var a3 = init;
  for (var k0 = 0u; k0 < K; k0 += TK) {
    // Stage X: 512 values, 4 per invocation.
    for (var i = 0u; i < 4u; i++) {
      let e = li + i * 128u;
      let rr = tr0 + e / TK;
      let kk = k0 + e % TK;
      xs[e] = select(0.0, x[min(rr, M - 1u) * K + min(kk, K - 1u)], rr < M && kk < K);
    }
    // Stage W: 256 vec4, 2 per invocation.
    for (var i = 0u; i < 2u; i++) {
      let e = li + i * 128u;
      let kk = k0 + e / (TN / 4u);
      let cc = tc0 + (e % (TN / 4u)) * 4u;
      let ko = min(kk, K - 1u) * N;
      var v = vec4<f32>(
        w[ko + min(cc, N - 1u)], w[ko + min(cc + 1u, N - 1u)],
        w[ko + min(cc + 2u, N - 1u)], w[ko + min(cc + 3u, N - 1u)]);
      if (kk >= K) {
        v = vec4<f32>(0.0);
      }
      ws[e] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let wv = ws[kk * (TN / 4u) + lid.x];
      let xo = lid.y * 4u * TK + kk;
      a0 += xs[xo] * wv;
      a1 += xs[xo + TK] * wv;
      a2 += xs[xo + 2u * TK] * wv;
      a3 += xs[xo + 3u * TK] * wv;
    }
    workgroupBarrier();
  }
  let acc = array<vec4<f32>, 4>(a0, a1, a2, a3);
  for (var i = 0u; i < 4u; i++) {
    let r = r0 + i;
    if (r < M && c0 < N) {
      let o = r * N + c0;
      let v = acc[i];
      y[o] = epilogue(v.x);
      if (c0 + 1u < N) { y[o + 1u] = epilogue(v.y); }
      if (c0 + 2u < N) { y[o + 2u] = epilogue(v.z); }
      if (c0 + 3u < N) { y[o + 3u] = epilogue(v.w); }
    }
  }
}
