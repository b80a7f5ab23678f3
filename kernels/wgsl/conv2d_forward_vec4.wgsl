// conv2d_forward_vec4.wgsl — y = conv(x, w) + b with an optional fused ReLU
// as a register-blocked implicit GEMM, for IN_C and OUT_C multiples of 4
// (the MNIST convnet's second conv): conv2d_forward_blocked.wgsl with x read
// as vec4 along its channels. The backend picks it whenever the shapes
// allow (src/ops/conv2d_forward.ts states the formula).
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows = B, the batch's images
//   1 x     storage read  array<vec4<f32>>  x [B, IN_H, IN_W, IN_C] (NHWC,
//                                           IN_C/4 vec4 per pixel)
//   2 w     storage read  array<vec4<f32>>  w [K_H, K_W, IN_C, OUT_C] (HWIO,
//                                           OUT_C/4 vec4 per row)
//   3 b     storage read  array<vec4<f32>>  b [OUT_C] (ignored unless
//                                           HAS_BIAS; bind ≥ 16 bytes)
//   4 y     storage rw    array<vec4<f32>>  y [B, OUT_H, OUT_W, OUT_C] (NHWC)
// Overrides: the geometry of parts/conv_geometry.wgsl (IN_H … PAD_L), HAS_BIAS,
//   RELU, WG_X × WG_Y = 64.
// Dispatch: (ceil(ceil(OUT_C/8) / WG_X), ceil(ceil(B·OUT_H·OUT_W / PIX) / WG_Y))
//   workgroups of WG_X × WG_Y.
//
// Each invocation owns PIX = 32 consecutive output pixels × 8 output
// channels (64 vec4 accumulators). Per tap (kh, kw) it works out the 8 input offsets once
// (a pixel whose tap falls in the padding reads index 0 and multiplies 0),
// then per 4 input channels loads one vec4 of x per pixel and 8 vec4 of w:
// 40 loads for 1024 multiply-adds, no workgroup memory, no barriers.
// Measured on llvmpipe (the MNIST convnet's conv2, batch 128): 32 pixels
// per invocation 1.6× faster than 8 and 2.4× faster than 4 (BENCHMARKS.md):
// the spilled accumulators cost less than the loads they save.
// Uses parts/conv_geometry.wgsl, which declares the geometry overrides
// (IN_H … PAD_L):
// uses: conv_geometry
override HAS_BIAS: bool = true;
override RELU: bool = false;
override WG_X: u32 = 4u;
override WG_Y: u32 = 16u;

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

// Output pixels per invocation.
const PIX = 32u;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let OC4 = OUT_C / 4u;
  let P = ctx.rows * OUT_H * OUT_W;
  let c0 = gid.x * 2u;
  let p0 = gid.y * PIX;
  if (c0 >= OC4 || p0 >= P) {
    return;
  }
  let c1 = min(c0 + 1u, OC4 - 1u);
  // Per pixel: the input row and column of tap (0, 0), and its image's first pixel.
  var ih0: array<i32, PIX>;
  var iw0: array<i32, PIX>;
  var img: array<u32, PIX>;
  for (var i = 0u; i < PIX; i++) {
    let p = min(p0 + i, P - 1u);
    let ow = p % OUT_W;
    let oh = (p / OUT_W) % OUT_H;
    img[i] = (p / (OUT_W * OUT_H)) * IN_H * IN_W;
    ih0[i] = i32(oh * STRIDE_H) - i32(PAD_T);
    iw0[i] = i32(ow * STRIDE_W) - i32(PAD_L);
  }
  var a0: array<vec4<f32>, PIX>;
  var a1: array<vec4<f32>, PIX>;
  var init0 = vec4<f32>(0.0);
  var init1 = vec4<f32>(0.0);
  if (HAS_BIAS) {
    init0 = b[c0];
    init1 = b[c1];
  }
  for (var i = 0u; i < PIX; i++) {
    a0[i] = init0;
    a1[i] = init1;
  }
  var xo: array<u32, PIX>;
  var ok: array<bool, PIX>;
  for (var kh = 0u; kh < K_H; kh++) {
    for (var kw = 0u; kw < K_W; kw++) {
      for (var i = 0u; i < PIX; i++) {
        let ih = ih0[i] + i32(kh * DIL_H);
        let iw = iw0[i] + i32(kw * DIL_W);
        ok[i] = ih >= 0 && ih < i32(IN_H) && iw >= 0 && iw < i32(IN_W);
        xo[i] = select(0u, (img[i] + u32(ih) * IN_W + u32(iw)) * (IN_C / 4u), ok[i]);
      }
      var wo = (kh * K_W + kw) * IN_C * OC4;
      for (var ic = 0u; ic < IN_C / 4u; ic++) {
        let w00 = w[wo + c0];
        let w01 = w[wo + c1];
        let w10 = w[wo + OC4 + c0];
        let w11 = w[wo + OC4 + c1];
        let w20 = w[wo + 2u * OC4 + c0];
        let w21 = w[wo + 2u * OC4 + c1];
        let w30 = w[wo + 3u * OC4 + c0];
        let w31 = w[wo + 3u * OC4 + c1];
        for (var i = 0u; i < PIX; i++) {
          let v = select(vec4<f32>(0.0), x[xo[i] + ic], ok[i]);
          a0[i] += v.x * w00 + v.y * w10 + v.z * w20 + v.w * w30;
          a1[i] += v.x * w01 + v.y * w11 + v.z * w21 + v.w * w31;
        }
        wo += 4u * OC4;
      }
    }
  }
  for (var i = 0u; i < PIX; i++) {
    if (p0 + i < P) {
      let o = (p0 + i) * OC4;
      y[o + c0] = epilogue(a0[i]);
      if (c0 + 1u < OC4) {
        y[o + c0 + 1u] = epilogue(a1[i]);
      }
    }
  }
}
