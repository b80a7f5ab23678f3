// batch_norm_backward_params.wgsl — dγ = Σdy·x̂ and dβ = Σdy, copied from
// the stats rows 5 and 4 that batch_norm_backward_reduce wrote
// (src/ops/batch_norm_backward.ts).
//
// Bindings (group 0):
//   0 ctx     uniform Ctx (prelude): unused
//   1 stats   storage read  array<f32>  [6 × CHANNELS]
//   2 dgamma  storage rw    array<f32>  [CHANNELS], overwritten (unused without HAS_GAMMA)
//   3 dbeta   storage rw    array<f32>  [CHANNELS], overwritten (unused without HAS_BETA)
// Overrides: CHANNELS, HAS_GAMMA, HAS_BETA.
// Dispatch: a 2-D grid of 64-invocation workgroups covering CHANNELS (prelude's flat_index).
override CHANNELS: u32;
override HAS_GAMMA: bool;
override HAS_BETA: bool;

@group(0) @binding(1) var<storage, read> stats: array<f32>;
@group(0) @binding(2) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(3) var<storage, read_write> dbeta: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let c = flat_index(gid, nwg);
  if (c >= CHANNELS) {
    return;
  }
  if (HAS_GAMMA) {
    dgamma[c] = stats[5u * CHANNELS + c];
  }
  if (HAS_BETA) {
    dbeta[c] = stats[4u * CHANNELS + c];
  }
}
