// dropout.wgsl — inverted dropout with the counter RNG; the same kernel is
// the backward pass (applied to dY with the same key: the mask is recomputed,
// never stored).
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows, keys
//   1 x     storage read  array<f32>  [rows × FEATURES] (dY when backward)
//   2 y     storage rw    array<f32>  [rows × FEATURES] (dX when backward)
// Overrides: FEATURES; THRESHOLD = dropoutThreshold(rate) (u32 ≤ 2^24);
//   SCALE = dropoutScale(rate) (already an f32); KEY_SLOT, where the
//   layer's key rngKey(seed, stream, step) sits in ctx.keys.
// Element i (flat over the batch) is kept iff (hash_at(key, i) >> 8) >=
// THRESHOLD, then y = x · SCALE: bit-identical to the reference dropout.
// Dispatch: a 2-D grid of 64-invocation workgroups covering rows·FEATURES.
override FEATURES: u32;
override THRESHOLD: u32;
override SCALE: f32;
override KEY_SLOT: u32 = 0u;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= ctx.rows * FEATURES) {
    return;
  }
  let key = ctx.keys[KEY_SLOT / 4u][KEY_SLOT % 4u];
  let keep = (hash_at(key, i) >> 8u) >= THRESHOLD;
  y[i] = select(0.0, x[i] * SCALE, keep);
}
