// dense_backward_weights.wgsl — dW = Xᵀ·dY, reading X transposed in place.
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows = M (only these rows contribute)
//   1 x     storage read  array<f32>  X  [M × K] row-major (the layer input)
//   2 dy    storage read  array<f32>  dY [M × N] row-major
//   3 dw    storage rw    array<f32>  dW [K × N] row-major, overwritten
// Overrides: K, N, WG_X × WG_Y ≤ 128 the workgroup shape.
// Each invocation computes a 4×4 block of dW (k = 4·gid.y…, n = 4·gid.x…)
// in four vec4 accumulators, looping over the M rows: per row it loads four
// X values (a row segment of X, i.e. a column segment of Xᵀ) and a vec4 of dY.
// Dispatch: (ceil(ceil(N/4) / WG_X), ceil(ceil(K/4) / WG_Y)) workgroups.
// db (the column sums of dY) is its own kernel, bias_grad.wgsl.
// Positions per example (a dense layer on a sequence): M = ctx.rows · SEQ.
override SEQ: u32 = 1u;
override K: u32;
override N: u32;
override WG_X: u32 = 16u;
override WG_Y: u32 = 4u;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let M = ctx.rows * SEQ;
  let n0 = gid.x * 4u;
  let k0 = gid.y * 4u;
  if (n0 >= N || k0 >= K) {
    return;
  }
  let n = vec4<u32>(n0, min(n0 + 1u, N - 1u), min(n0 + 2u, N - 1u), min(n0 + 3u, N - 1u));
  let k1 = min(k0 + 1u, K - 1u);
  let k2 = min(k0 + 2u, K - 1u);
  let k3 = min(k0 + 3u, K - 1u);
  var a0 = vec4<f32>(0.0);
  var a1 = vec4<f32>(0.0);
  var a2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  for (var m = 0u; m < M; m++) {
    let yo = m * N;
    var g: vec4<f32>;
    if (N % 4u == 0u) {
      g = vec4<f32>(dy[yo + n0], dy[yo + n0 + 1u], dy[yo + n0 + 2u], dy[yo + n0 + 3u]);
    } else {
      g = vec4<f32>(dy[yo + n.x], dy[yo + n.y], dy[yo + n.z], dy[yo + n.w]);
    }
    let xo = m * K;
    a0 += x[xo + k0] * g;
    a1 += x[xo + k1] * g;
    a2 += x[xo + k2] * g;
    a3 += x[xo + k3] * g;
  }
  let acc = array<vec4<f32>, 4>(a0, a1, a2, a3);
  for (var i = 0u; i < 4u; i++) {
    let k = k0 + i;
    if (k < K) {
      let o = k * N + n0;
      let v = acc[i];
      dw[o] = v.x;
      if (n0 + 1u < N) { dw[o + 1u] = v.y; }
      if (n0 + 2u < N) { dw[o + 2u] = v.z; }
      if (n0 + 3u < N) { dw[o + 3u] = v.w; }
    }
  }
}
