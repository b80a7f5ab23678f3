// embedding_backward.wgsl — dtable = scatter-add of the dy rows into the
// rows of their token ids (embedding backward), overwritten.
//
// Bindings (group 0):
//   0 ctx     uniform Ctx (prelude): rows
//   1 ids     storage read  array<f32>  [rows × T] integer token ids as floats
//   2 dy      storage read  array<f32>  [rows × T × D]
//   3 dtable  storage rw    array<f32>  [V × D], overwritten
// Overrides: T, D, V, V_BLOCK.
// Deterministic without atomics: invocation (d, b) owns column d of the
// vocabulary rows b·V_BLOCK … b·V_BLOCK + V_BLOCK − 1. It zeroes them, then
// walks the ctx.rows·T positions in order and adds dy[p, d] where the
// position's row (row(id): clamped to 0 … V − 1, truncated) is one of its
// own: every element sums its positions in (r, t) order, as the reference.
// Dispatch: (ceil(D / 64), ceil(V / V_BLOCK)) workgroups of 64; gid.x = d,
// gid.y = b.
override T: u32;
override D: u32;
override V: u32;
override V_BLOCK: u32;

@group(0) @binding(1) var<storage, read> ids: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dtable: array<f32>;

fn token_row(id: f32) -> u32 {
  if (id >= f32(V - 1u)) {
    return V - 1u;
  }
  if (id > 0.0) {
    return u32(id);
  }
  return 0u;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let d = gid.x;
  let first = gid.y * V_BLOCK;
  if (d >= D || first >= V) {
    return;
  }
  let last = min(first + V_BLOCK, V);
  for (var v = first; v < last; v++) {
    dtable[v * D + d] = 0.0;
  }
  let n = ctx.rows * T;
  for (var p = 0u; p < n; p++) {
    let v = token_row(ids[p]);
    if (v >= first && v < last) {
      dtable[v * D + d] += dy[p * D + d];
    }
  }
}
