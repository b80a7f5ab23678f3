// split.wgsl — concat's backward: da[r, o, :] = dy[r, o, 0:WA],
// db[r, o, :] = dy[r, o, WA:WA+WB].
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows
//   1 dy    storage read  array<f32>  [rows × OUTER × (WA + WB)]
//   2 da    storage rw    array<f32>  [rows × OUTER × WA]
//   3 db    storage rw    array<f32>  [rows × OUTER × WB]
// Overrides: OUTER, WA, WB.
// Dispatch: a 2-D grid of 64-invocation workgroups covering every element
// of dy, one per invocation (prelude's flat_index).
override OUTER: u32;
override WA: u32;
override WB: u32;

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> da: array<f32>;
@group(0) @binding(3) var<storage, read_write> db: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  let w = WA + WB;
  if (i >= ctx.rows * OUTER * w) {
    return;
  }
  let o = i / w;
  let j = i - o * w;
  if (j < WA) {
    da[o * WA + j] = dy[i];
  } else {
    db[o * WB + j - WA] = dy[i];
  }
}
