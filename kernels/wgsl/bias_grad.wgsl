// bias_grad.wgsl — db = column sums of dY (the bias half of
// dense_backward_weights), a reduction over the batch rows.
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows = M
//   1 dy    storage read  array<f32>  dY [M × N] row-major
//   2 db    storage rw    array<f32>  db [N], overwritten
// Overrides: N.
// One invocation per column, summing its M rows in order (as the reference).
// Dispatch: (ceil(N / 64), 1) workgroups of 64.
// Positions per example (a dense layer on a sequence): the sum runs over ctx.rows · SEQ rows.
override SEQ: u32 = 1u;
override N: u32;

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> db: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  if (n >= N) {
    return;
  }
  var s = 0.0;
  for (var m = 0u; m < ctx.rows * SEQ; m++) {
    s += dy[m * N + n];
  }
  db[n] = s;
}
