// conv2d_backward_weights.wgsl — dw = dL/dw of conv2d_forward (HWIO),
// summed over the batch (src/ops/conv2d_backward_weights.ts).
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows = B, the batch's images
//   1 x     storage read  array<f32>  x [B, IN_H, IN_W, IN_C] (NHWC)
//   2 dy    storage read  array<f32>  dy [B, OUT_H, OUT_W, OUT_C] (NHWC)
//   3 dw    storage rw    array<f32>  dw [K_H, K_W, IN_C, OUT_C], overwritten
// Overrides: the geometry of parts/conv_geometry.wgsl (IN_H … PAD_L).
// Dispatch: (K_H·K_W·IN_C, ceil(OUT_C / 4)) workgroups of 64.
//
// One workgroup per row r = (kh, kw, ic) of dw × 4 output channels: its 64
// invocations take every 64th output pixel, each summing x under tap
// (kh, kw) times the vec4 of dy, then a tree reduction in workgroup memory
// (1 KiB). The pixel sums are long (B·OUT_H·OUT_W), so splitting them keeps
// many invocations busy even where dw is small (a first conv's 3×3×1).
// Uses parts/conv_geometry.wgsl, which declares the geometry overrides
// (IN_H … PAD_L):
// uses: conv_geometry

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;

var<workgroup> part: array<vec4<f32>, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let r = wg.x;
  let c0 = wg.y * 4u;
  let ic = r % IN_C;
  let kw = (r / IN_C) % K_W;
  let kh = r / (IN_C * K_W);
  let c = vec4<u32>(c0, min(c0 + 1u, OUT_C - 1u), min(c0 + 2u, OUT_C - 1u), min(c0 + 3u, OUT_C - 1u));
  let pixels = ctx.rows * OUT_H * OUT_W;
  var acc = vec4<f32>(0.0);
  for (var p = lane; p < pixels; p += 64u) {
    let ow = p % OUT_W;
    let oh = (p / OUT_W) % OUT_H;
    let n = p / (OUT_W * OUT_H);
    // Unsigned wrap-around: an index before the input fails the bound.
    let ih = oh * STRIDE_H + kh * DIL_H - PAD_T;
    let iw = ow * STRIDE_W + kw * DIL_W - PAD_L;
    if (ih < IN_H && iw < IN_W) {
      let xv = x[((n * IN_H + ih) * IN_W + iw) * IN_C + ic];
      let yo = p * OUT_C;
      acc += xv * vec4<f32>(dy[yo + c.x], dy[yo + c.y], dy[yo + c.z], dy[yo + c.w]);
    }
  }
  part[lane] = acc;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (lane < s) {
      part[lane] += part[lane + s];
    }
    workgroupBarrier();
  }
  if (lane < 4u && c0 + lane < OUT_C) {
    dw[r * OUT_C + c0 + lane] = part[0][lane];
  }
}
