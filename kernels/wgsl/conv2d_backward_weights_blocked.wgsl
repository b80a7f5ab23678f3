// conv2d_backward_weights_blocked.wgsl — dw = dL/dw of conv2d_forward
// (HWIO), summed over the batch (src/ops/conv2d_backward_weights.ts), as a
// register-blocked GEMM dw = colᵀ·dy with the im2col matrix never stored,
// for OUT_C a multiple of 4 and any IN_C (conv2d_backward_weights_vec4.wgsl
// where IN_C is a multiple of 4 too). The backend picks it over the direct
// conv2d_backward_weights.wgsl whenever the shapes allow.
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows = B, the batch's images
//   1 x     storage read  array<f32>        x [B, IN_H, IN_W, IN_C] (NHWC)
//   2 dy    storage read  array<vec4<f32>>  dy [B, OUT_H, OUT_W, OUT_C] (NHWC)
//   3 dw    storage rw    array<vec4<f32>>  dw [K_H, K_W, IN_C, OUT_C]
//                                           (OUT_C/4 vec4 per row), overwritten
// Overrides: the geometry of parts/conv_geometry.wgsl (IN_H … PAD_L).
// Dispatch: (ceil(K_H·K_W·IN_C / 4), ceil(OUT_C / 8)) workgroups of 64.
//
// One workgroup per block of 4 rows r = (kh, kw, ic) of dw × 8 output
// channels. Its 64 invocations take every 64th output pixel p (the sums
// are B·OUT_H·OUT_W long), each loading per pixel the 4 x values under its
// rows' taps (0 in the padding) and 2 vec4 of dy: 6 loads for 32
// multiply-adds into 8 vec4 accumulators. Then one tree reduction of the
// 64 partial blocks in workgroup memory (8 KiB). Deterministic: the order
// of every sum is fixed by the shapes and the batch rows, never by timing
// (no atomics).
// Uses parts/conv_geometry.wgsl, which declares the geometry overrides
// (IN_H … PAD_L):
// uses: conv_geometry

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dw: array<vec4<f32>>;

// [8 accumulators][64 invocations]: a0[0…3] then a1[0…3].
var<workgroup> part: array<vec4<f32>, 512>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let OC4 = OUT_C / 4u;
  let ROWS = K_H * K_W * IN_C;
  let r0 = wg.x * 4u;
  let c0 = wg.y * 2u;
  let c1 = min(c0 + 1u, OC4 - 1u);
  // Per row of the block: its tap's offset from the output pixel's corner, and its channel.
  var dh: array<i32, 4>;
  var dv: array<i32, 4>;
  var ch: array<u32, 4>;
  for (var j = 0u; j < 4u; j++) {
    let r = min(r0 + j, ROWS - 1u);
    ch[j] = r % IN_C;
    dv[j] = i32(((r / IN_C) % K_W) * DIL_W) - i32(PAD_L);
    dh[j] = i32((r / (IN_C * K_W)) * DIL_H) - i32(PAD_T);
  }
  var a0: array<vec4<f32>, 4>;
  var a1: array<vec4<f32>, 4>;
  for (var j = 0u; j < 4u; j++) {
    a0[j] = vec4<f32>(0.0);
    a1[j] = vec4<f32>(0.0);
  }
  let pixels = ctx.rows * OUT_H * OUT_W;
  for (var p = lane; p < pixels; p += 64u) {
    let ow = p % OUT_W;
    let oh = (p / OUT_W) % OUT_H;
    let img = (p / (OUT_W * OUT_H)) * IN_H;
    let d0 = dy[p * OC4 + c0];
    let d1 = dy[p * OC4 + c1];
    for (var j = 0u; j < 4u; j++) {
      let ih = i32(oh * STRIDE_H) + dh[j];
      let iw = i32(ow * STRIDE_W) + dv[j];
      let ok = ih >= 0 && ih < i32(IN_H) && iw >= 0 && iw < i32(IN_W);
      let v = select(0.0, x[select(0u, ((img + u32(ih)) * IN_W + u32(iw)) * IN_C + ch[j], ok)], ok);
      a0[j] += v * d0;
      a1[j] += v * d1;
    }
  }
  for (var j = 0u; j < 4u; j++) {
    part[j * 64u + lane] = a0[j];
    part[(j + 4u) * 64u + lane] = a1[j];
  }
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (lane < s) {
      for (var k = 0u; k < 8u; k++) {
        part[k * 64u + lane] += part[k * 64u + lane + s];
      }
    }
    workgroupBarrier();
  }
  if (lane < 8u) {
    let r = r0 + lane % 4u;
    let c = select(c0, c0 + 1u, lane >= 4u);
    if (r < ROWS && c < OC4) {
      dw[r * OC4 + c] = part[lane * 64u];
    }
  }
}
