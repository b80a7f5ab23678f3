// dense_forward_4x8.wgsl — a custom dense_forward for Tessera:
// Y = X·W + b, then ReLU when RELU, with a different tiling from the
// built-in kernels. Contract: docs/kernels.md ("dense_forward").
//
// The prelude (Ctx, `ctx` at binding 0, the RNG helpers) is prepended by
// Tessera; this file declares bindings 1–4, the overrides the host sets,
// and the dispatch tile.
//
// Tiling: each invocation computes a 4-row × 8-column block of Y in eight
// vec4 accumulators (two per row), a workgroup of 8 × 8 invocations covers
// 32 rows × 64 columns. Loads are scalar with clamped indices, so any K and
// N work (the built-in picks a vec4 kernel only when K and N are multiples
// of 4); stores are guarded.
//
//   tessera bench --backend webgpu --op dense_forward --kernel dense_forward=examples/custom-kernel/dense_forward_4x8.wgsl

override K: u32;
override N: u32;
override HAS_BIAS: bool = true;
override RELU: bool = false;

// The dispatch rule: Tessera launches (ceil(N / TILE_N), ceil(M / TILE_M)) workgroups.
const WG_X: u32 = 8u;
const WG_Y: u32 = 8u;
const TILE_N: u32 = 64u; // WG_X invocations × 8 columns
const TILE_M: u32 = 32u; // WG_Y invocations × 4 rows

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

fn col(c: u32) -> u32 {
  return min(c, N - 1u);
}

fn wrow(base: u32, c0: u32) -> array<vec4<f32>, 2> {
  return array<vec4<f32>, 2>(
    vec4<f32>(w[base + col(c0)], w[base + col(c0 + 1u)], w[base + col(c0 + 2u)], w[base + col(c0 + 3u)]),
    vec4<f32>(w[base + col(c0 + 4u)], w[base + col(c0 + 5u)], w[base + col(c0 + 6u)], w[base + col(c0 + 7u)]),
  );
}

fn epilogue(v: f32) -> f32 {
  if (RELU) {
    return select(0.0, v, v > 0.0);
  }
  return v;
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let M = ctx.rows;
  let c0 = gid.x * 8u;
  let r0 = gid.y * 4u;
  if (c0 >= N || r0 >= M) {
    return;
  }
  var init = array<vec4<f32>, 2>(vec4<f32>(0.0), vec4<f32>(0.0));
  if (HAS_BIAS) {
    init = array<vec4<f32>, 2>(
      vec4<f32>(b[col(c0)], b[col(c0 + 1u)], b[col(c0 + 2u)], b[col(c0 + 3u)]),
      vec4<f32>(b[col(c0 + 4u)], b[col(c0 + 5u)], b[col(c0 + 6u)], b[col(c0 + 7u)]),
    );
  }
  var acc: array<vec4<f32>, 8>;
  var xo: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) {
    acc[2u * i] = init[0];
    acc[2u * i + 1u] = init[1];
    xo[i] = min(r0 + i, M - 1u) * K;
  }
  for (var k = 0u; k < K; k++) {
    let wv = wrow(k * N, c0);
    for (var i = 0u; i < 4u; i++) {
      let xv = x[xo[i] + k];
      acc[2u * i] += xv * wv[0];
      acc[2u * i + 1u] += xv * wv[1];
    }
  }
  for (var i = 0u; i < 4u; i++) {
    let r = r0 + i;
    if (r < M) {
      for (var j = 0u; j < 8u; j++) {
        if (c0 + j < N) {
          y[r * N + c0 + j] = epilogue(acc[2u * i + j / 4u][j % 4u]);
        }
      }
    }
  }
}
