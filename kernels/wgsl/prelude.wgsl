// prelude.wgsl — prepended by src/runtime/webgpu/kernels.ts to every other
// kernel in kernels/wgsl at pipeline creation (WGSL has no includes). It is
// not a kernel by itself. Kernels that share more name parts of
// kernels/wgsl/parts in a `// uses:` line; those follow the prelude.
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
//   lr        the step's learning rate (the schedule's), host f64 -> f32
//   inv_rows  f32(1 / rows), the softmax cross-entropy gradient scale
//   keys      rngKey(seed, stream, g) of dropout layer slot s at keys[s/4][s%4]
struct Ctx {
  offset: u32,
  rows: u32,
  step: u32,
  _pad0: u32,
  alpha: f32,
  inv_rows: f32,
  lr: f32,
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

// Special functions of the activation kernels (activation.wgsl,
// activation_backward.wgsl), written once here. `exp` is WGSL's builtin
// (the spec allows 3 + 2·|x| ulp, and llvmpipe uses most of it); the rest
// mirror kernels/as/math.ts. test/activations.test.ts bounds them (measured
// on llvmpipe): erf 1e-6 absolute (1.8e-7), erfc 1e-5 relative for z ≤ 4
// (2.1e-6: exp of an argument down to −17), expm1, tanh and log1p 1e-6
// relative (5.4e-7, 3.4e-7, 1.9e-7).
//   erfc_pos  erfc(z), z ≥ 0: Numerical Recipes' erfcc (a Chebyshev fit of
//             erfc·e^(z²), fractional error 1.2e-7 in exact arithmetic), so
//             the Gaussian tail keeps its relative accuracy
//   erf_f32   erf(x): x·(Maclaurin to x¹³) for |x| < 0.5, ±(1 − erfc) beyond
//   expm1_f32 e^x − 1: Taylor to x⁸ for |x| < 0.5, exp(x) − 1 beyond
//   tanh_f32  tanh via expm1 (WGSL's tanh may be sinh/cosh: NaN for large |x|)
//   log1p01   log(1 + u) for u in [0, 1]: 2·atanh(u/(2+u)) series (WGSL's
//             log is only 2⁻²¹ absolute near 1, useless for log(1 + tiny))
//   sigmoid_f32, normal_cdf (Φ from erfc: no cancellation for x ≪ 0)
fn erfc_pos(z: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.5 * z);
  let p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return t * exp(p - z * z);
}

fn erf_f32(x: f32) -> f32 {
  let x2 = x * x;
  let series = 1.1283791670955126 * x * (1.0 + x2 * (-1.0 / 3.0 + x2 * (0.1 + x2 * (-1.0 / 42.0
    + x2 * (1.0 / 216.0 + x2 * (-1.0 / 1320.0 + x2 * (1.0 / 9360.0)))))));
  let tail = sign(x) * (1.0 - erfc_pos(abs(x)));
  return select(tail, series, abs(x) < 0.5);
}

fn expm1_f32(x: f32) -> f32 {
  let taylor = x + x * x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0
    + x * (1.0 / 720.0 + x * (1.0 / 5040.0 + x * (1.0 / 40320.0)))))));
  return select(exp(x) - 1.0, taylor, abs(x) < 0.5);
}

fn tanh_f32(x: f32) -> f32 {
  let m = expm1_f32(-2.0 * abs(x));
  return sign(x) * abs(m / (2.0 + m));
}

fn log1p01(u: f32) -> f32 {
  let s = u / (2.0 + u);
  let s2 = s * s;
  return 2.0 * s * (1.0 + s2 * (1.0 / 3.0 + s2 * (0.2 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0
    + s2 * (1.0 / 11.0 + s2 * (1.0 / 13.0 + s2 * (1.0 / 15.0))))))));
}

fn sigmoid_f32(x: f32) -> f32 {
  // Clamped: an overflowing exp is implementation-defined at run time in WGSL.
  return 1.0 / (1.0 + exp(min(-x, 88.0)));
}

fn normal_cdf(x: f32) -> f32 {
  let c = 0.5 * erfc_pos(abs(x) * 0.70710678118654752);
  return select(1.0 - c, c, x < 0.0);
}
