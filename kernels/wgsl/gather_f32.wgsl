// gather_f32.wgsl — one batch from a resident float32 dataset, copied.
//
// Bindings (group 0):
//   0 ctx      uniform Ctx (prelude): offset, rows
//   1 images   storage read  array<f32>  the features, example e is
//                                        [e·F, (e+1)·F)
//   2 labels   storage read  array<u32>  the label bytes, 4 per u32,
//                                        little-endian (byte b is bits
//                                        8·(b%4) of word b/4)
//   3 order    storage read  array<u32>  example indices (the epoch's shuffle)
//   4 x        storage rw    array<f32>  [rows × F] output, row-major
//   5 y        storage rw    array<u32>  [rows] output labels
// Overrides: F (features per example), ORDERED (true: row r is example
//   order[offset + r]; false: example offset + r, for evaluation/predict),
//   SHARD_FIRST, SHARD_COUNT (a set split into shards, one dispatch per
//   shard: images and labels hold examples [SHARD_FIRST, SHARD_FIRST +
//   SHARD_COUNT) only, example e at local index e − SHARD_FIRST, and rows
//   whose example lies outside are left to the other shards' dispatches;
//   the defaults, 0 and 0xffffffff, are the whole set in one shard).
// x[r·F + j] = images[e·F + j], bit for bit.
// Uses parts/gather_rows.wgsl (the overrides ORDERED, SHARD_FIRST,
// SHARD_COUNT; example_of_row, NO_EXAMPLE):
// uses: gather_rows
// Dispatch: (ceil(F / 64), rows) workgroups of 64; each invocation writes
//   one feature of one row.
override F: u32;

@group(0) @binding(1) var<storage, read> images: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read> order: array<u32>;
@group(0) @binding(4) var<storage, read_write> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.y;
  let j = gid.x;
  if (r >= ctx.rows || j >= F) {
    return;
  }
  let ex = example_of_row(r);
  if (ex == NO_EXAMPLE) {
    return; // another shard's row
  }
  x[r * F + j] = images[ex * F + j];
  if (j == 0u) {
    y[r] = (labels[ex >> 2u] >> ((ex & 3u) * 8u)) & 255u;
  }
}
