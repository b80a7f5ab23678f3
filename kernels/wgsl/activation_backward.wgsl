// activation_backward.wgsl — dx = dy·F'(x) elementwise, for every
// elementwise activation of src/ops (the *_backward ops), F chosen by the
// override FN as in activation.wgsl. Given both x and y = F(x): sigmoid and
// tanh read y, the others x.
//
// Bindings (group 0):
//   0 ctx  uniform Ctx (prelude): rows
//   1 dy   storage read  array<f32>  [rows × FEATURES]
//   2 x    storage read  array<f32>  [rows × FEATURES] the forward input
//   3 y    storage read  array<f32>  [rows × FEATURES] the forward output
//   4 dx   storage rw    array<f32>  [rows × FEATURES]
// Overrides: FN (ids as in activation.wgsl; 0 relu is relu_backward.wgsl's),
//   FEATURES, ALPHA (leaky_relu, elu).
// Dispatch: a 2-D grid of 64-invocation workgroups covering rows·FEATURES
// elements, one per invocation (prelude's flat_index).
override FN: u32;
override FEATURES: u32;
override ALPHA: f32 = 0.0;

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

// (σ(z), σ(z)·σ(−z)) from one e = e^(−|z|): σ(|z|) = r = 1/(1 + e),
// σ(−|z|) = e·r, so the slope e·r² does not cancel for large |z| as
// σ·(1 − σ) would (silu′, gelu_tanh′).
fn sigmoid_and_slope(z: f32) -> vec2<f32> {
  let e = exp(-abs(z));
  let r = 1.0 / (1.0 + e);
  return vec2<f32>(select(e * r, r, z >= 0.0), e * r * r);
}

// F'(x) at element i; reads only the buffer its function needs.
fn derivative(i: u32) -> f32 {
  switch FN {
    case 1u: { let s = y[i]; return s * (1.0 - s); }
    case 2u: { let t = y[i]; return (1.0 - t) * (1.0 + t); } // 1 − t², exact near |t| = 1
    case 3u: { return select(ALPHA, 1.0, x[i] > 0.0); }
    case 4u: { let v = x[i]; return select(ALPHA * exp(v), 1.0, v > 0.0); }
    case 5u: { let v = x[i]; return normal_cdf(v) + v * 0.3989422804014327 * exp(-0.5 * v * v); }
    // d/dx x·σ(z) = σ(z) + x·σ(z)σ(−z)·z', z = 2u, z' = 2√(2/π)(1 + 3·0.044715x²)
    case 6u: {
      let v = x[i];
      let z = v * (1.5957691216057308 + 0.0713548162726 * v * v);
      let s = sigmoid_and_slope(z);
      return s.x + v * s.y * (1.5957691216057308 + 0.2140644488178 * v * v);
    }
    case 7u: { let v = x[i]; let s = sigmoid_and_slope(v); return s.x + v * s.y; }
    case 8u: { return sigmoid_f32(x[i]); }
    default: { return 1.0; }
  }
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= ctx.rows * FEATURES) {
    return;
  }
  dx[i] = dy[i] * derivative(i);
}
