// dense_backward_input_vec4.wgsl — dX = dY·Wᵀ for K and N multiples of 4,
// reading W transposed in place, with the ReLU backward of the layer below
// optionally fused (the backend picks it over dense_backward_input.wgsl
// whenever the shapes allow; the flagship's only dX, 128×10, does not).
//
// Bindings (group 0):
//   0 ctx       uniform Ctx (prelude): rows = M
//   1 dy        storage read  array<vec4<f32>>  dY [M × N] row-major
//   2 w         storage read  array<vec4<f32>>  W  [K × N] row-major
//   3 relu_out  storage read  array<vec4<f32>>  [M × K] the ReLU output that
//                                               was this layer's input
//                                               (ignored unless RELU_MASK)
//   4 dx        storage rw    array<vec4<f32>>  dX [M × K] row-major
// Overrides: K, N (multiples of 4), RELU_MASK (dX = 0 where
//   !(relu_out > 0)), WG_X × WG_Y ≤ 128.
// Each invocation computes an 8-row × 4-column block of dX (rows 8·gid.y…,
// k = 4·gid.x…) in eight vec4 accumulators. Per step of 4 along N it loads
// the vec4 W[k…k+3][n…n+3] (four rows of W, i.e. a 4×4 block of Wᵀ) and one
// vec4 of dY per row, and accumulates dot products: 12 vector loads for 128
// multiply-adds, no workgroup memory (see dense_forward_vec4.wgsl for why).
// Dispatch: (ceil((K/4) / WG_X), ceil(ceil(M/8) / WG_Y)) workgroups.
// Positions per example (a dense layer on a sequence): M = ctx.rows · SEQ.
override SEQ: u32 = 1u;
override K: u32;
override N: u32;
override RELU_MASK: bool = false;
override WG_X: u32 = 16u;
override WG_Y: u32 = 4u;

@group(0) @binding(1) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> relu_out: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> dx: array<vec4<f32>>;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let M = ctx.rows * SEQ;
  let N4 = N / 4u;
  let K4 = K / 4u;
  let kq = gid.x;
  let r0 = gid.y * 8u;
  if (kq >= K4 || r0 >= M) {
    return;
  }
  var yo: array<u32, 8>;
  for (var i = 0u; i < 8u; i++) {
    yo[i] = min(r0 + i, M - 1u) * N4;
  }
  var a: array<vec4<f32>, 8>;
  for (var i = 0u; i < 8u; i++) {
    a[i] = vec4<f32>(0.0);
  }
  let wo = kq * 4u * N4;
  for (var n = 0u; n < N4; n++) {
    let w0 = w[wo + n];
    let w1 = w[wo + N4 + n];
    let w2 = w[wo + 2u * N4 + n];
    let w3 = w[wo + 3u * N4 + n];
    for (var i = 0u; i < 8u; i++) {
      let d = dy[yo[i] + n];
      a[i] += vec4<f32>(dot(d, w0), dot(d, w1), dot(d, w2), dot(d, w3));
    }
  }
  for (var i = 0u; i < 8u; i++) {
    let r = r0 + i;
    if (r < M) {
      let o = r * K4 + kq;
      var v = a[i];
      if (RELU_MASK) {
        v = select(vec4<f32>(0.0), v, relu_out[o] > vec4<f32>(0.0));
      }
      dx[o] = v;
    }
  }
}
