// softmax_backward.wgsl — dx = y·(dy − Σ_j dy_j·y_j) over each row of
// FEATURES values (the softmax activation's backward; reads y only).
//
// Bindings (group 0):
//   0 ctx  uniform Ctx (prelude): rows
//   1 dy   storage read  array<f32>  [rows × FEATURES]
//   2 y    storage read  array<f32>  [rows × FEATURES] the softmax output
//   3 dx   storage rw    array<f32>  [rows × FEATURES]
// Overrides: FEATURES.
// Dispatch: one 64-invocation workgroup per row, rows numbered
// workgroup_id.x + workgroup_id.y·num_workgroups.x; workgroups past
// ctx.rows return. The dot product is a tree reduction in workgroup memory.
override FEATURES: u32;

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

var<workgroup> part: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= ctx.rows) {
    return; // uniform per workgroup: the barriers below stay in uniform control flow
  }
  let o = row * FEATURES;
  var d = 0.0;
  for (var j = lid; j < FEATURES; j += 64u) {
    d += dy[o + j] * y[o + j];
  }
  part[lid] = d;
  for (var s = 32u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (lid < s) {
      part[lid] += part[lid + s];
    }
  }
  workgroupBarrier();
  let dot = part[0];
  for (var j = lid; j < FEATURES; j += 64u) {
    dx[o + j] = y[o + j] * (dy[o + j] - dot);
  }
}
