// conv2d_forward.wgsl — y = conv(x, w) + b with an optional fused ReLU,
// direct convolution (src/ops/conv2d_forward.ts states the formula).
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows = B, the batch's images
//   1 x     storage read  array<f32>  x [B, IN_H, IN_W, IN_C] (NHWC)
//   2 w     storage read  array<f32>  w [K_H, K_W, IN_C, OUT_C] (HWIO, Keras)
//   3 b     storage read  array<f32>  b [OUT_C] (ignored when HAS_BIAS is
//                                     false; bind any buffer)
//   4 y     storage rw    array<f32>  y [B, OUT_H, OUT_W, OUT_C] (NHWC)
// Overrides: IN_H, IN_W, IN_C, OUT_H, OUT_W, OUT_C, K_H, K_W, STRIDE_H,
//   STRIDE_W, DIL_H, DIL_W, PAD_T, PAD_L (TF "same"/"valid" padding before
//   the input; outside it x counts as 0), HAS_BIAS, RELU (y > 0 ? y : 0, so
//   NaN becomes 0).
// Dispatch: (ceil(B·OUT_H·OUT_W / 64), ceil(OUT_C / 4)) workgroups of 64.
//
// Each invocation computes one output pixel × 4 output channels in a vec4
// accumulator: per tap it loads one x value and one vec4 of w, and the 64
// pixels of a workgroup read the same w (a broadcast). Out-of-range
// channels are clamped on load and skipped on store.
// Uses parts/conv_geometry.wgsl, which declares the geometry overrides
// (IN_H … PAD_L):
// uses: conv_geometry
override HAS_BIAS: bool = true;
override RELU: bool = false;

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

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let p = gid.x;
  let c0 = gid.y * 4u;
  if (p >= ctx.rows * OUT_H * OUT_W || c0 >= OUT_C) {
    return;
  }
  let ow = p % OUT_W;
  let oh = (p / OUT_W) % OUT_H;
  let n = p / (OUT_W * OUT_H);
  let c = vec4<u32>(c0, min(c0 + 1u, OUT_C - 1u), min(c0 + 2u, OUT_C - 1u), min(c0 + 3u, OUT_C - 1u));
  var acc = vec4<f32>(0.0);
  if (HAS_BIAS) {
    acc = vec4<f32>(b[c.x], b[c.y], b[c.z], b[c.w]);
  }
  for (var kh = 0u; kh < K_H; kh++) {
    // Unsigned wrap-around: an index before the input becomes huge and fails the bound.
    let ih = oh * STRIDE_H + kh * DIL_H - PAD_T;
    if (ih >= IN_H) {
      continue;
    }
    for (var kw = 0u; kw < K_W; kw++) {
      let iw = ow * STRIDE_W + kw * DIL_W - PAD_L;
      if (iw >= IN_W) {
        continue;
      }
      let xo = ((n * IN_H + ih) * IN_W + iw) * IN_C;
      var wo = (kh * K_W + kw) * IN_C * OUT_C;
      for (var ic = 0u; ic < IN_C; ic++) {
        let wv = vec4<f32>(w[wo + c.x], w[wo + c.y], w[wo + c.z], w[wo + c.w]);
        acc += x[xo + ic] * wv;
        wo += OUT_C;
      }
    }
  }
  let o = p * OUT_C + c0;
  y[o] = epilogue(acc.x);
  if (c0 + 1u < OUT_C) { y[o + 1u] = epilogue(acc.y); }
  if (c0 + 2u < OUT_C) { y[o + 2u] = epilogue(acc.z); }
  if (c0 + 3u < OUT_C) { y[o + 3u] = epilogue(acc.w); }
}
