// gather.wgsl — one batch from a resident uint8 image set, normalised.
//
// Bindings (group 0):
//   0 ctx      uniform Ctx (prelude): offset, rows
//   1 images   storage read  array<u32>  the image bytes, 4 pixels per u32,
//                                        little-endian (byte b is bits 8·(b%4)
//                                        of word b/4); example e is bytes
//                                        [e·F, (e+1)·F)
//   2 labels   storage read  array<u32>  the label bytes, packed the same way
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
// x[r·F + j] = f32(byte) · PIXEL_SCALE with PIXEL_SCALE = f32(1/255)
//   (0x3b808081), the exact product the reference computes.
// Uses parts/gather_rows.wgsl (the overrides ORDERED, SHARD_FIRST,
// SHARD_COUNT; example_of_row, NO_EXAMPLE):
// uses: gather_rows
// Dispatch: (ceil(ceil(F/4) / 64), rows) workgroups of 64; each invocation
//   writes 4 consecutive features of one row.
override F: u32;

@group(0) @binding(1) var<storage, read> images: array<u32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read> order: array<u32>;
@group(0) @binding(4) var<storage, read_write> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<u32>;

fn byte_at_images(b: u32) -> u32 {
  return (images[b >> 2u] >> ((b & 3u) * 8u)) & 255u;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.y;
  let j0 = gid.x * 4u;
  if (r >= ctx.rows || j0 >= F) {
    return;
  }
  let ex = example_of_row(r);
  if (ex == NO_EXAMPLE) {
    return; // another shard's row
  }
  let scale = bitcast<f32>(0x3b808081u);
  let src = ex * F + j0;
  let dst = r * F + j0;
  if (F % 4u == 0u) {
    let word = images[src >> 2u];
    x[dst] = f32(word & 255u) * scale;
    x[dst + 1u] = f32((word >> 8u) & 255u) * scale;
    x[dst + 2u] = f32((word >> 16u) & 255u) * scale;
    x[dst + 3u] = f32(word >> 24u) * scale;
  } else {
    for (var i = 0u; i < 4u; i++) {
      if (j0 + i < F) {
        x[dst + i] = f32(byte_at_images(src + i)) * scale;
      }
    }
  }
  if (j0 == 0u) {
    y[r] = (labels[ex >> 2u] >> ((ex & 3u) * 8u)) & 255u;
  }
}
