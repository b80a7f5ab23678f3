// conv2d_backward_input_vec4.wgsl — dx = dL/dx of conv2d_forward, with the
// ReLU backward of the layer below fused in, as a register-blocked gather
// for IN_C and OUT_C multiples of 4 (src/ops/conv2d_backward_input.ts
// states the formula). The backend picks it over the direct
// conv2d_backward_input.wgsl whenever the shapes allow.
//
// Bindings (group 0):
//   0 ctx       uniform Ctx (prelude): rows = B, the batch's images
//   1 dy        storage read  array<vec4<f32>>  dy [B, OUT_H, OUT_W, OUT_C] (NHWC)
//   2 w         storage read  array<vec4<f32>>  w [K_H, K_W, IN_C, OUT_C] (HWIO,
//                                               OUT_C/4 vec4 per row)
//   3 relu_out  storage read  array<vec4<f32>>  [B, IN_H, IN_W, IN_C]: dx is 0
//                                               where it is <= 0 (ignored unless
//                                               RELU_MASK; bind ≥ 16 bytes)
//   4 dx        storage rw    array<vec4<f32>>  dx [B, IN_H, IN_W, IN_C], overwritten
// Overrides: the geometry of parts/conv_geometry.wgsl (IN_H … PAD_L), RELU_MASK,
//   WG_X × WG_Y = 64.
// Dispatch: (ceil(ceil(IN_C/8) / WG_X), ceil(ceil(B·IN_H·IN_W / PIX) / WG_Y))
//   workgroups of WG_X × WG_Y.
//
// A gather, so no two invocations write the same dx (no atomics): each owns
// PIX = 32 consecutive input pixels × 8 input channels (64 vec4
// accumulators). Per
// tap (kh, kw) it finds, for each pixel, the output pixel
// oh = (ih + PAD_T − kh·DIL_H) / STRIDE_H (and ow) that the tap reads it
// from, when that lands exactly and in range (else it reads index 0 and
// multiplies 0); then per 4 output channels it loads one vec4 of dy per
// pixel and the 8 vec4 of w rows (kh, kw, ic, oc…oc+3) of its channels, and
// adds dy·w over the 4: 40 loads for 1024 multiply-adds, no barriers.
// Uses parts/conv_geometry.wgsl, which declares the geometry overrides
// (IN_H … PAD_L):
// uses: conv_geometry
override RELU_MASK: bool = false;
override WG_X: u32 = 4u;
override WG_Y: u32 = 16u;

@group(0) @binding(1) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> relu_out: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> dx: array<vec4<f32>>;

fn w_dot(d: vec4<f32>, w0: vec4<f32>, w1: vec4<f32>, w2: vec4<f32>, w3: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(dot(d, w0), dot(d, w1), dot(d, w2), dot(d, w3));
}

fn masked(o: u32, v: vec4<f32>) -> vec4<f32> {
  if (RELU_MASK) {
    return select(vec4<f32>(0.0), v, relu_out[o] > vec4<f32>(0.0));
  }
  return v;
}

// Pixels per invocation.
const PIX = 32u;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let IC4 = IN_C / 4u;
  let OC4 = OUT_C / 4u;
  let Q = ctx.rows * IN_H * IN_W;
  let c0 = gid.x * 2u;
  let q0 = gid.y * PIX;
  if (c0 >= IC4 || q0 >= Q) {
    return;
  }
  let c1 = min(c0 + 1u, IC4 - 1u);
  // Per pixel: its row and column shifted by the padding, and its image's first output pixel.
  var th0: array<i32, PIX>;
  var tw0: array<i32, PIX>;
  var img: array<u32, PIX>;
  for (var i = 0u; i < PIX; i++) {
    let q = min(q0 + i, Q - 1u);
    th0[i] = i32((q / IN_W) % IN_H) + i32(PAD_T);
    tw0[i] = i32(q % IN_W) + i32(PAD_L);
    img[i] = (q / (IN_W * IN_H)) * OUT_H * OUT_W;
  }
  var a0: array<vec4<f32>, PIX>;
  var a1: array<vec4<f32>, PIX>;
  for (var i = 0u; i < PIX; i++) {
    a0[i] = vec4<f32>(0.0);
    a1[i] = vec4<f32>(0.0);
  }
  var yo: array<u32, PIX>;
  var ok: array<bool, PIX>;
  for (var kh = 0u; kh < K_H; kh++) {
    for (var kw = 0u; kw < K_W; kw++) {
      for (var i = 0u; i < PIX; i++) {
        let th = th0[i] - i32(kh * DIL_H);
        let tw = tw0[i] - i32(kw * DIL_W);
        let oh = th / i32(STRIDE_H);
        let ow = tw / i32(STRIDE_W);
        ok[i] = th >= 0 && tw >= 0 && oh * i32(STRIDE_H) == th && ow * i32(STRIDE_W) == tw && oh < i32(OUT_H) && ow < i32(OUT_W);
        yo[i] = select(0u, (img[i] + u32(oh) * OUT_W + u32(ow)) * OC4, ok[i]);
      }
      // Rows (kh, kw, 4·c0 + j) and (kh, kw, 4·c1 + j) of w, j = 0…3.
      let tap = (kh * K_W + kw) * IN_C;
      let r0 = (tap + 4u * c0) * OC4;
      let r1 = (tap + 4u * c1) * OC4;
      for (var oc = 0u; oc < OC4; oc++) {
        let w00 = w[r0 + oc];
        let w01 = w[r0 + OC4 + oc];
        let w02 = w[r0 + 2u * OC4 + oc];
        let w03 = w[r0 + 3u * OC4 + oc];
        let w10 = w[r1 + oc];
        let w11 = w[r1 + OC4 + oc];
        let w12 = w[r1 + 2u * OC4 + oc];
        let w13 = w[r1 + 3u * OC4 + oc];
        for (var i = 0u; i < PIX; i++) {
          let d = select(vec4<f32>(0.0), dy[yo[i] + oc], ok[i]);
          a0[i] += w_dot(d, w00, w01, w02, w03);
          a1[i] += w_dot(d, w10, w11, w12, w13);
        }
      }
    }
  }
  for (var i = 0u; i < PIX; i++) {
    if (q0 + i < Q) {
      let o = (q0 + i) * IC4;
      dx[o + c0] = masked(o + c0, a0[i]);
      if (c0 + 1u < IC4) {
        dx[o + c1] = masked(o + c1, a1[i]);
      }
    }
  }
}
