// dense_backward_input.wgsl — dX = dY·Wᵀ, reading W transposed in place,
// with the ReLU backward of the layer below optionally fused.
//
// Bindings (group 0):
//   0 ctx       uniform Ctx (prelude): rows = M
//   1 dy        storage read  array<f32>  dY [M × N] row-major
//   2 w         storage read  array<f32>  W  [K × N] row-major
//   3 relu_out  storage read  array<f32>  [M × K] the ReLU output that was this
//                                         layer's input (ignored unless
//                                         RELU_MASK; bind any buffer)
//   4 dx        storage rw    array<f32>  dX [M × K] row-major, overwritten
// Overrides: K, N, RELU_MASK (dX = 0 where !(relu_out > 0)), WG_X × WG_Y ≤ 128.
// Each invocation computes a 4×4 block of dX (rows 4·gid.y…, k = 4·gid.x…)
// in vec4 accumulators, looping over N: per n it loads four dY values (one
// column segment) and four W values W[k…k+3][n] (a column segment of Wᵀ).
// Dispatch: (ceil(ceil(K/4) / WG_X), ceil(ceil(M/4) / WG_Y)) workgroups.
// Positions per example (a dense layer on a sequence): M = ctx.rows · SEQ.
override SEQ: u32 = 1u;
override K: u32;
override N: u32;
override RELU_MASK: bool = false;
override WG_X: u32 = 16u;
override WG_Y: u32 = 4u;

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> relu_out: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let M = ctx.rows * SEQ;
  let k0 = gid.x * 4u;
  let r0 = gid.y * 4u;
  if (k0 >= K || r0 >= M) {
    return;
  }
  let wk = vec4<u32>(k0, min(k0 + 1u, K - 1u), min(k0 + 2u, K - 1u), min(k0 + 3u, K - 1u)) * N;
  let y0 = r0 * N;
  let y1 = min(r0 + 1u, M - 1u) * N;
  let y2 = min(r0 + 2u, M - 1u) * N;
  let y3 = min(r0 + 3u, M - 1u) * N;
  var a0 = vec4<f32>(0.0);
  var a1 = vec4<f32>(0.0);
  var a2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  for (var n = 0u; n < N; n++) {
    let wv = vec4<f32>(w[wk.x + n], w[wk.y + n], w[wk.z + n], w[wk.w + n]);
    a0 += dy[y0 + n] * wv;
    a1 += dy[y1 + n] * wv;
    a2 += dy[y2 + n] * wv;
    a3 += dy[y3 + n] * wv;
  }
  let acc = array<vec4<f32>, 4>(a0, a1, a2, a3);
  for (var i = 0u; i < 4u; i++) {
    let r = r0 + i;
    if (r < M) {
      let o = r * K + k0;
      var v = acc[i];
      if (RELU_MASK) {
        let ro = vec4<f32>(relu_out[o], relu_out[min(o + 1u, r * K + K - 1u)],
                           relu_out[min(o + 2u, r * K + K - 1u)], relu_out[min(o + 3u, r * K + K - 1u)]);
        v = select(vec4<f32>(0.0), v, ro > vec4<f32>(0.0));
      }
      dx[o] = v.x;
      if (k0 + 1u < K) { dx[o + 1u] = v.y; }
      if (k0 + 2u < K) { dx[o + 2u] = v.z; }
      if (k0 + 3u < K) { dx[o + 3u] = v.w; }
    }
  }
}
