// conv2d_backward_input.wgsl — dx = dL/dx of conv2d_forward, with the ReLU
// backward of the layer below fused in (src/ops/conv2d_backward_input.ts).
//
// Bindings (group 0):
//   0 ctx       uniform Ctx (prelude): rows = B, the batch's images
//   1 dy        storage read  array<f32>  dy [B, OUT_H, OUT_W, OUT_C] (NHWC)
//   2 w         storage read  array<f32>  w [K_H, K_W, IN_C, OUT_C] (HWIO)
//   3 relu_out  storage read  array<f32>  [B, IN_H, IN_W, IN_C]: dx is 0 where
//                                         it is <= 0 (ignored unless RELU_MASK)
//   4 dx        storage rw    array<f32>  dx [B, IN_H, IN_W, IN_C], overwritten
// Overrides: the geometry of parts/conv_geometry.wgsl (IN_H … PAD_L), RELU_MASK.
// Dispatch: (ceil(B·IN_H·IN_W / 64), ceil(IN_C / 4)) workgroups of 64.
//
// A gather, so no two invocations write the same dx: each owns one input
// pixel × 4 input channels and sums, over the taps (kh, kw) whose output
// pixel oh = (ih + PAD_T − kh·DIL_H) / STRIDE_H lands exactly and in range,
// dy[oh, ow, :] · w[kh, kw, ic, :].
// Uses parts/conv_geometry.wgsl, which declares the geometry overrides
// (IN_H … PAD_L):
// uses: conv_geometry
override RELU_MASK: bool = false;

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> relu_out: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q = gid.x;
  let c0 = gid.y * 4u;
  if (q >= ctx.rows * IN_H * IN_W || c0 >= IN_C) {
    return;
  }
  let iw = i32(q % IN_W);
  let ih = i32((q / IN_W) % IN_H);
  let n = q / (IN_W * IN_H);
  let c = vec4<u32>(c0, min(c0 + 1u, IN_C - 1u), min(c0 + 2u, IN_C - 1u), min(c0 + 3u, IN_C - 1u)) * OUT_C;
  var acc = vec4<f32>(0.0);
  for (var kh = 0u; kh < K_H; kh++) {
    let th = ih + i32(PAD_T) - i32(kh * DIL_H);
    if (th < 0 || th % i32(STRIDE_H) != 0) {
      continue;
    }
    let oh = u32(th) / STRIDE_H;
    if (oh >= OUT_H) {
      continue;
    }
    for (var kw = 0u; kw < K_W; kw++) {
      let tw = iw + i32(PAD_L) - i32(kw * DIL_W);
      if (tw < 0 || tw % i32(STRIDE_W) != 0) {
        continue;
      }
      let ow = u32(tw) / STRIDE_W;
      if (ow >= OUT_W) {
        continue;
      }
      let yo = ((n * OUT_H + oh) * OUT_W + ow) * OUT_C;
      let wo = (kh * K_W + kw) * IN_C * OUT_C;
      for (var oc = 0u; oc < OUT_C; oc++) {
        let wi = wo + oc;
        acc += dy[yo + oc] * vec4<f32>(w[wi + c.x], w[wi + c.y], w[wi + c.z], w[wi + c.w]);
      }
    }
  }
  let o = q * IN_C + c0;
  let r = array<f32, 4>(acc.x, acc.y, acc.z, acc.w);
  for (var i = 0u; i < 4u; i++) {
    if (c0 + i < IN_C) {
      var v = r[i];
      if (RELU_MASK && !(relu_out[o + i] > 0.0)) {
        v = 0.0;
      }
      dx[o + i] = v;
    }
  }
}
