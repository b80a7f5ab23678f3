// prelude.wgsl — prepended by src/runtime/webgpu/kernels.ts to every other
// kernel in kernels/wgsl at pipeline creation (WGSL has no includes). It is
// not a kernel by itself.
//
// Binding 0 of group 0 in every Tessera kernel is the per-step context, a
// uniform bound with a dynamic offset: the backend writes one 256-byte record
// per step (or per evaluation batch) for a whole chunk of steps with one
// queue.writeBuffer, and each step's dispatches select their record with
// setBindGroup(0, group, [step * 256]). Kernels read the batch geometry, the
// Adam step size and the dropout keys from it, never from a per-step upload.
//
//   offset    first index into the order (or into the dataset when unordered)
//   rows      rows in this batch (<= the batch size the buffers were made for)
//   step      global step index g (dropout keys are already derived from it)
//   alpha     Adam step size for t = g + 1, computed on the host in f64
//   inv_rows  f32(1 / rows), the softmax cross-entropy gradient scale
//   keys      rngKey(seed, stream, g) of dropout layer slot s at keys[s/4][s%4]
struct Ctx {
  offset: u32,
  rows: u32,
  step: u32,
  _pad0: u32,
  alpha: f32,
  inv_rows: f32,
  _pad1: u32,
  _pad2: u32,
  keys: array<vec4<u32>, 4>,
}

@group(0) @binding(0) var<uniform> ctx: Ctx;

// The counter RNG of src/runtime/rng.ts ("lowbias32"), u32 wrapping arithmetic.
fn mix32(x0: u32) -> u32 {
  var x = x0;
  x = x ^ (x >> 16u);
  x = x * 0x7feb352du;
  x = x ^ (x >> 15u);
  x = x * 0x846ca68bu;
  x = x ^ (x >> 16u);
  return x;
}

fn hash_at(key: u32, index: u32) -> u32 {
  return mix32(key ^ index);
}

fn rng_key(seed: u32, stream: u32, step: u32) -> u32 {
  return mix32(mix32(mix32(seed ^ 0x9e3779b9u) ^ stream) ^ step);
}

// Flat invocation index of a 1-D problem dispatched as a 2-D grid of
// 64-invocation workgroups (so more than 65535 workgroups fit).
fn flat_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * 64u;
}
