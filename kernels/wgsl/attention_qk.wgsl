// attention_qk.wgsl — per head, out[h,i,j] = SCALE · a_i·b_j (scores, or
// dprobs = dout·vᵀ), optionally followed by the causal mask and the
// max-subtracted softmax over j (the attention probabilities).
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows
//   1 a     storage read  array<f32>  [rows × T × H·D]  head h: columns h·D …
//   2 b     storage read  array<f32>  [rows × T × H·D]
//   3 out   storage rw    array<f32>  [rows × H × T × T]
// Overrides: T, H, D, SOFTMAX, CAUSAL (keys after the query get probability
// 0; with SOFTMAX only), SCALE (f32).
// Dispatch: a 2-D grid of 64-invocation workgroups, one invocation per
// (row, head, query i) writing the T values of its output row (flat_index).
override T: u32;
override H: u32;
override D: u32;
override SOFTMAX: bool = true;
override CAUSAL: bool = false;
override SCALE: f32 = 1.0;

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = flat_index(gid, nwg);
  if (n >= ctx.rows * H * T) {
    return;
  }
  let i = n % T;
  let h = (n / T) % H;
  let r = n / (T * H);
  let W = H * D;
  let row = n * T;
  let ai = (r * T + i) * W + h * D;
  var last = T - 1u;
  if (SOFTMAX && CAUSAL) {
    last = i;
  }
  var mx = -3.40282e38;
  for (var j = 0u; j <= last; j++) {
    let bj = (r * T + j) * W + h * D;
    var dot = 0.0;
    for (var d = 0u; d < D; d++) {
      dot += a[ai + d] * b[bj + d];
    }
    let s = dot * SCALE;
    out[row + j] = s;
    mx = max(mx, s);
  }
  if (!SOFTMAX) {
    return;
  }
  var sum = 0.0;
  for (var j = 0u; j <= last; j++) {
    let e = exp(out[row + j] - mx);
    out[row + j] = e;
    sum += e;
  }
  let inv = 1.0 / sum;
  for (var j = 0u; j < T; j++) {
    out[row + j] = select(0.0, out[row + j] * inv, j <= last);
  }
}
