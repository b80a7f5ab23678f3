// conv2d_backward_weights_vec4.wgsl — dw = dL/dw of conv2d_forward (HWIO),
// summed over the batch, for IN_C a multiple of 16 and OUT_C a multiple of
// 4 (the MNIST convnet's second conv), as a register-blocked GEMM
// dw = colᵀ·dy with the im2col matrix never stored. The backend picks it
// whenever the shapes allow, else conv2d_backward_weights_blocked.wgsl
// (src/ops/conv2d_backward_weights.ts states the formula).
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows = B, the batch's images
//   1 x     storage read  array<vec4<f32>>  x [B, IN_H, IN_W, IN_C] (NHWC,
//                                           IN_C/4 vec4 per pixel)
//   2 dy    storage read  array<vec4<f32>>  dy [B, OUT_H, OUT_W, OUT_C] (NHWC)
//   3 dw    storage rw    array<vec4<f32>>  dw [K_H, K_W, IN_C, OUT_C]
//                                           (OUT_C/4 vec4 per row), overwritten
// Overrides: the geometry of parts/conv_geometry.wgsl (IN_H … PAD_L), WG_X × WG_Y
//   = 16.
// Dispatch: (ceil(ceil(OUT_C/8) / WG_X), ceil(K_H·K_W·IN_C / 16 / WG_Y))
//   workgroups of WG_X × WG_Y.
//
// Each invocation owns 16 rows of dw (one tap (kh, kw) × 16 input
// channels) × 8 output channels (32 vec4 accumulators) and sums every
// output pixel of the batch itself, walking output rows in order (no
// division per pixel): per pixel 4 vec4 of x and 2 vec4 of dy for 128
// multiply-adds. The lanes that llvmpipe runs together own the same rows
// and neighbouring channels, so they read one pixel's x and dy, where
// splitting the pixels over a workgroup (conv2d_backward_weights_blocked)
// makes every lane read a different pixel: 2.1× faster at conv2 of the
// MNIST convnet (BENCHMARKS.md). No workgroup memory, no atomics, and each
// sum runs in pixel order whatever the dispatch: deterministic.
// Uses parts/conv_geometry.wgsl, which declares the geometry overrides
// (IN_H … PAD_L):
// uses: conv_geometry

@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dw: array<vec4<f32>>;

override WG_X: u32 = 8u;
override WG_Y: u32 = 2u;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let OC4 = OUT_C / 4u;
  let ROWS = K_H * K_W * IN_C;
  let c0 = gid.x * 2u;
  let r0 = gid.y * 16u;
  if (c0 >= OC4 || r0 >= ROWS) {
    return;
  }
  let c1 = min(c0 + 1u, OC4 - 1u);
  let q0 = (r0 % IN_C) / 4u;
  let dv = i32(((r0 / IN_C) % K_W) * DIL_W) - i32(PAD_L);
  let dh = i32((r0 / (IN_C * K_W)) * DIL_H) - i32(PAD_T);
  var a0: array<vec4<f32>, 16>;
  var a1: array<vec4<f32>, 16>;
  for (var j = 0u; j < 16u; j++) {
    a0[j] = vec4<f32>(0.0);
    a1[j] = vec4<f32>(0.0);
  }
  let IC4 = IN_C / 4u;
  var p = 0u;
  for (var t = 0u; t < ctx.rows * OUT_H; t++) {
    let ih = i32((t % OUT_H) * STRIDE_H) + dh;
    let rowok = ih >= 0 && ih < i32(IN_H);
    let xrow = ((t / OUT_H) * IN_H + u32(max(ih, 0))) * IN_W;
    for (var ow = 0u; ow < OUT_W; ow++) {
      let iw = i32(ow * STRIDE_W) + dv;
      let ok = rowok && iw >= 0 && iw < i32(IN_W);
      let xo = select(0u, (xrow + u32(iw)) * IC4 + q0, ok);
      let d0 = dy[p * OC4 + c0];
      let d1 = dy[p * OC4 + c1];
      for (var q = 0u; q < 4u; q++) {
        let v = select(vec4<f32>(0.0), x[xo + q], ok);
        a0[4u * q] += v.x * d0;
        a0[4u * q + 1u] += v.y * d0;
        a0[4u * q + 2u] += v.z * d0;
        a0[4u * q + 3u] += v.w * d0;
        a1[4u * q] += v.x * d1;
        a1[4u * q + 1u] += v.y * d1;
        a1[4u * q + 2u] += v.z * d1;
        a1[4u * q + 3u] += v.w * d1;
      }
      p++;
    }
  }
  for (var j = 0u; j < 16u; j++) {
    dw[(r0 + j) * OC4 + c0] = a0[j];
    if (c0 + 1u < OC4) {
      dw[(r0 + j) * OC4 + c1] = a1[j];
    }
  }
}
