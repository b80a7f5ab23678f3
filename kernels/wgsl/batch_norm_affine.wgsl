// batch_norm_affine.wgsl — batch normalization's per-channel scale and
// shift from its statistics (src/ops/batch_norm.ts):
//   a = γ·invstd (γ = 1 without HAS_GAMMA), b = β − mean·a (β = 0 without HAS_BETA)
//
// Bindings (group 0):
//   0 ctx    uniform Ctx (prelude): unused
//   1 stats  storage rw    array<f32>  [6 × CHANNELS]: rows 0–1 (mean, invstd) read, rows 2–3 (a, b) written
//   2 gamma  storage read  array<f32>  [CHANNELS] (unused without HAS_GAMMA)
//   3 beta   storage read  array<f32>  [CHANNELS] (unused without HAS_BETA)
// Overrides: CHANNELS, HAS_GAMMA, HAS_BETA.
// Dispatch: a 2-D grid of 64-invocation workgroups covering CHANNELS (prelude's flat_index).
override CHANNELS: u32;
override HAS_GAMMA: bool;
override HAS_BETA: bool;

@group(0) @binding(1) var<storage, read_write> stats: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let c = flat_index(gid, nwg);
  if (c >= CHANNELS) {
    return;
  }
  var g = 1.0;
  if (HAS_GAMMA) {
    g = gamma[c];
  }
  var b = 0.0;
  if (HAS_BETA) {
    b = beta[c];
  }
  let a = g * stats[CHANNELS + c];
  stats[2u * CHANNELS + c] = a;
  stats[3u * CHANNELS + c] = b - stats[c] * a;
}
