// activation.wgsl — y = F(x) elementwise, for every elementwise activation
// op of src/ops (relu, sigmoid, tanh, leaky_relu, elu, gelu, gelu_tanh,
// silu, softplus). F is the override FN (the op's `id`), so each pipeline
// is specialised to one function and the switch folds away.
//
// Bindings (group 0):
//   0 ctx  uniform Ctx (prelude): rows
//   1 x    storage read  array<f32>  [rows × FEATURES]
//   2 y    storage rw    array<f32>  [rows × FEATURES]
// Overrides: FN (0 relu, 1 sigmoid, 2 tanh, 3 leaky_relu, 4 elu, 5 gelu,
//   6 gelu_tanh, 7 silu, 8 softplus), FEATURES, ALPHA (leaky_relu's
//   negative_slope, elu's alpha; unused by the others).
// Dispatch: a 2-D grid of 64-invocation workgroups covering rows·FEATURES
// elements, one per invocation (prelude's flat_index).
override FN: u32;
override FEATURES: u32;
override ALPHA: f32 = 0.0;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

fn activate(v: f32) -> f32 {
  switch FN {
    case 0u: { return select(0.0, v, v > 0.0); }
    case 1u: { return sigmoid_f32(v); }
    case 2u: { return tanh_f32(v); }
    case 3u: { return select(ALPHA * v, v, v > 0.0); }
    case 4u: { return select(ALPHA * expm1_f32(v), v, v > 0.0); }
    case 5u: { return v * normal_cdf(v); }
    // ½x(1 + tanh u) = x·σ(2u), u = √(2/π)(x + 0.044715x³): no cancellation for x ≪ 0
    case 6u: { return v * sigmoid_f32(v * (1.5957691216057308 + 0.0713548162726 * v * v)); }
    case 7u: { return v * sigmoid_f32(v); }
    // log(1 + e^x) = max(x, 0) + log1p(e^−|x|): no overflow, no rounding to 0 for x ≪ 0
    case 8u: { return max(v, 0.0) + log1p01(exp(-abs(v))); }
    default: { return v; }
  }
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= ctx.rows * FEATURES) {
    return;
  }
  y[i] = activate(x[i]);
}
