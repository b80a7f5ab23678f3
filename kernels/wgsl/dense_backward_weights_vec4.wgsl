// dense_backward_weights_vec4.wgsl — dW = Xᵀ·dY for K and N multiples of 4,
// reading X transposed in place (the backend picks it over
// dense_backward_weights.wgsl whenever the shapes allow).
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows = M (only these rows contribute)
//   1 x     storage read  array<vec4<f32>>  X  [M × K] row-major
//   2 dy    storage read  array<vec4<f32>>  dY [M × N] row-major
//   3 dw    storage rw    array<vec4<f32>>  dW [K × N] row-major, overwritten
// Overrides: K, N (multiples of 4), WG_X × WG_Y ≤ 128.
// Each invocation computes an 8×8 block of dW: rows k0…k0+7 (k0 = 8·gid.y)
// × columns n0…n0+7 (n0 = 8·gid.x) in sixteen vec4 accumulators; per batch
// row m it loads two vec4 of X (X[m][k0…k0+7], a column segment of Xᵀ) and
// two vec4 of dY: 4 vector loads for 64 multiply-adds, no workgroup memory
// (see dense_forward_vec4 for why that pays on llvmpipe: ~1.4× the 8×4
// block, ~1.8× the 4×4 block here). When K/4 or N/4 is odd the last block's
// second half is clamped on load and not stored.
// Dispatch: (ceil(ceil(N/8) / WG_X), ceil(ceil(K/8) / WG_Y)) workgroups.
// Positions per example (a dense layer on a sequence): M = ctx.rows · SEQ.
override SEQ: u32 = 1u;
override K: u32;
override N: u32;
override WG_X: u32 = 16u;
override WG_Y: u32 = 4u;

@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dw: array<vec4<f32>>;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let M = ctx.rows * SEQ;
  let N4 = N / 4u;
  let K4 = K / 4u;
  let c = gid.x * 2u;
  let kq = gid.y * 2u;
  if (c >= N4 || kq >= K4) {
    return;
  }
  let kq1 = min(kq + 1u, K4 - 1u);
  let c1 = min(c + 1u, N4 - 1u);
  // a[i]: dW row k0 + i, columns n0…n0+3; a[8 + i]: the same row, n0+4…n0+7.
  var a: array<vec4<f32>, 16>;
  for (var i = 0u; i < 16u; i++) {
    a[i] = vec4<f32>(0.0);
  }
  for (var m = 0u; m < M; m++) {
    let xv = x[m * K4 + kq];
    let xu = x[m * K4 + kq1];
    let g = dy[m * N4 + c];
    let h = dy[m * N4 + c1];
    a[0] += xv.x * g;
    a[1] += xv.y * g;
    a[2] += xv.z * g;
    a[3] += xv.w * g;
    a[4] += xu.x * g;
    a[5] += xu.y * g;
    a[6] += xu.z * g;
    a[7] += xu.w * g;
    a[8] += xv.x * h;
    a[9] += xv.y * h;
    a[10] += xv.z * h;
    a[11] += xv.w * h;
    a[12] += xu.x * h;
    a[13] += xu.y * h;
    a[14] += xu.z * h;
    a[15] += xu.w * h;
  }
  let o = kq * 4u * N4 + c;
  for (var i = 0u; i < 8u; i++) {
    if (kq * 4u + i < K) {
      dw[o + i * N4] = a[i];
      if (c + 1u < N4) {
        dw[o + i * N4 + 1u] = a[8u + i];
      }
    }
  }
}
