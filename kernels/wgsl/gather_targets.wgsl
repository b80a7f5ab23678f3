// gather_targets.wgsl — one batch of a resident dataset's float targets.
//
// Bindings (group 0):
//   0 ctx      uniform Ctx (prelude): offset, rows
//   1 targets  storage read  array<f32>  [count × W] the dataset's targets,
//                                        example-major
//   2 order    storage read  array<u32>  example indices (the epoch's shuffle)
//   3 y        storage rw    array<f32>  [rows × W] output, row-major
// Overrides: W (floats per example), ORDERED (true: row r is example
//   order[offset + r]; false: example offset + r, for evaluation),
//   SHARD_FIRST, SHARD_COUNT (a set split into shards: targets holds
//   examples [SHARD_FIRST, SHARD_FIRST + SHARD_COUNT) only, and rows whose
//   example lies outside are left to the other shards' dispatches; the
//   defaults, 0 and 0xffffffff, are the whole set in one shard).
// y[r·W + j] = targets[e·W + j]: a copy, bit-exact.
// Uses parts/gather_rows.wgsl (the overrides ORDERED, SHARD_FIRST,
// SHARD_COUNT; example_of_row, NO_EXAMPLE):
// uses: gather_rows
// Dispatch: (ceil(W / 64), rows) workgroups of 64; one invocation per float.
override W: u32;

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
  let ex = example_of_row(r);
  if (ex == NO_EXAMPLE) {
    return; // another shard's row
  }
  y[r * W + j] = targets[ex * W + j];
}
