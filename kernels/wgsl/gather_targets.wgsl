// gather_targets.wgsl — one batch of a resident dataset's float targets.
//
// Bindings (group 0):
//   0 ctx      uniform Ctx (prelude): offset, rows
//   1 targets  storage read  array<f32>  [count × W] the dataset's targets,
//                                        example-major
//   2 order    storage read  array<u32>  example indices (the epoch's shuffle)
//   3 y        storage rw    array<f32>  [rows × W] output, row-major
// Overrides: W (floats per example), ORDERED (true: row r is example
//   order[offset + r]; false: example offset + r, for evaluation).
// y[r·W + j] = targets[e·W + j]: a copy, bit-exact.
// Dispatch: (ceil(W / 64), rows) workgroups of 64; one invocation per float.
override W: u32;
override ORDERED: bool = true;

@group(0) @binding(1) var<storage, read> targets: array<f32>;
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.y;
  let j = gid.x;
  if (r >= ctx.rows || j >= W) {
    return;
  }
  var ex = ctx.offset + r;
  if (ORDERED) {
    ex = order[ex];
  }
  y[r * W + j] = targets[ex * W + j];
}
