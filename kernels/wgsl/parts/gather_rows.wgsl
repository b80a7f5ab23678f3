// parts/gather_rows.wgsl — shared part (not a kernel) of the batch gathers
// gather, gather_f32 and gather_targets, pulled in by their
// `// uses: gather_rows` line (src/runtime/webgpu/kernels.ts): which example
// of the resident set batch row r holds, and whether this shard has it.
//
// Expects the kernel to declare `order: array<u32>` (storage read: the
// epoch's shuffle). Declares the overrides ORDERED (true: row r is example
// order[offset + r]; false: example offset + r), SHARD_FIRST and SHARD_COUNT
// (this dispatch's shard holds examples [SHARD_FIRST, SHARD_FIRST +
// SHARD_COUNT), example e at local index e − SHARD_FIRST; the defaults, 0 and
// 0xffffffff, are the whole set in one shard), and:
//   NO_EXAMPLE        0xffffffff
//   example_of_row(r) the local index of row r's example in this shard, or
//                     NO_EXAMPLE when it lies in another shard
override ORDERED: bool = true;
override SHARD_FIRST: u32 = 0u;
override SHARD_COUNT: u32 = 0xffffffffu;

const NO_EXAMPLE: u32 = 0xffffffffu;

fn example_of_row(r: u32) -> u32 {
  var ex = ctx.offset + r;
  if (ORDERED) {
    ex = order[ex];
  }
  if (ex < SHARD_FIRST || ex - SHARD_FIRST >= SHARD_COUNT) {
    return NO_EXAMPLE;
  }
  return ex - SHARD_FIRST;
}
