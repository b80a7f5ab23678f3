// softmax_rows.wgsl — the softmax activation: y = exp(x − max) / Σ exp(x − max)
// over each row of FEATURES values (the loss has its own softmax_xent;
// softmax.wgsl is predict's probabilities).
//
// Bindings (group 0):
//   0 ctx  uniform Ctx (prelude): rows
//   1 x    storage read  array<f32>  [rows × FEATURES]
//   2 y    storage rw    array<f32>  [rows × FEATURES]
// Overrides: FEATURES.
// Dispatch: one 64-invocation workgroup per row, rows numbered
// workgroup_id.x + workgroup_id.y·num_workgroups.x (a 2-D grid, so more
// than 65535 rows fit); workgroups past ctx.rows return. Each invocation
// strides over the row; max and sum are tree reductions in workgroup memory.
override FEATURES: u32;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

var<workgroup> part: array<f32, 64>;

// Tree reduction of part[0..64) into part[0]; `use_max` picks max over sum.
fn reduce(lid: u32, use_max: bool) {
  for (var s = 32u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (lid < s) {
      part[lid] = select(part[lid] + part[lid + s], max(part[lid], part[lid + s]), use_max);
    }
  }
  workgroupBarrier();
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= ctx.rows) {
    return; // uniform per workgroup: the barriers below stay in uniform control flow
  }
  let o = row * FEATURES;
  var m = -3.0e38;
  for (var j = lid; j < FEATURES; j += 64u) {
    m = max(m, x[o + j]);
  }
  part[lid] = m;
  reduce(lid, true);
  let mx = part[0];
  workgroupBarrier();
  var s = 0.0;
  for (var j = lid; j < FEATURES; j += 64u) {
    let e = exp(x[o + j] - mx);
    y[o + j] = e;
    s += e;
  }
  part[lid] = s;
  reduce(lid, false);
  let inv = 1.0 / part[0];
  for (var j = lid; j < FEATURES; j += 64u) {
    y[o + j] = y[o + j] * inv;
  }
}
