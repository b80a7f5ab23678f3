// attention_mix.wgsl — per head, out_x = SCALE · Σ_y p[h,x,y] · src_y, or
// with TRANSPOSE p[h,y,x]: the weighted sum of values (o = P·v), the
// gradients dq = scale·dS·k, dk = scale·dSᵀ·q, and dv = Pᵀ·dout.
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows
//   1 p     storage read  array<f32>  [rows × H × T × T]
//   2 src   storage read  array<f32>  [rows × T × H·D]
//   3 out   storage rw    array<f32>  [rows × T × H·D]
// Overrides: T, H, D, TRANSPOSE, SCALE (f32).
// Dispatch: a 2-D grid of 64-invocation workgroups, one invocation per
// output element (row, x, head, d) (flat_index); the sum over y runs in order.
override T: u32;
override H: u32;
override D: u32;
override TRANSPOSE: bool = false;
override SCALE: f32 = 1.0;

@group(0) @binding(1) var<storage, read> p: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = flat_index(gid, nwg);
  let W = H * D;
  if (n >= ctx.rows * T * W) {
    return;
  }
  let col = n % W;
  let h = col / D;
  let x = (n / W) % T;
  let r = n / (W * T);
  let base = (r * H + h) * T * T;
  var acc = 0.0;
  for (var y = 0u; y < T; y++) {
    var w = p[base + x * T + y];
    if (TRANSPOSE) {
      w = p[base + y * T + x];
    }
    acc += w * src[(r * T + y) * W + col];
  }
  out[n] = acc * SCALE;
}
