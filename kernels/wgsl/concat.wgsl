// concat.wgsl — y[r, o, :] = [a[r, o, 0:WA], b[r, o, 0:WB]] (concatenate merge).
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows
//   1 a     storage read  array<f32>  [rows × OUTER × WA]
//   2 b     storage read  array<f32>  [rows × OUTER × WB]
//   3 y     storage rw    array<f32>  [rows × OUTER × (WA + WB)]
// Overrides: OUTER, WA, WB.
// Dispatch: a 2-D grid of 64-invocation workgroups covering every element
// of y, one per invocation (prelude's flat_index).
override OUTER: u32;
override WA: u32;
override WB: u32;

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  let w = WA + WB;
  if (i >= ctx.rows * OUTER * w) {
    return;
  }
  let o = i / w;
  let j = i - o * w;
  y[i] = select(b[o * WB + j - WA], a[o * WA + j], j < WA);
}
