// batch_norm_stats.wgsl — batch normalization's per-channel statistics
// (src/ops/batch_norm.ts; formulas in src/ops/batch-norm-reference.ts).
//   TRAINING  mean and biased variance of each channel over the batch's
//             n = rows·FEATURES/CHANNELS values (two passes), invstd =
//             1/√(var + EPSILON), and the moving statistics updated:
//             moving = moving·MOMENTUM + batch·(1 − MOMENTUM)
//   else      mean = moving_mean, invstd = 1/√(moving_variance + EPSILON)
//             (x and the moving statistics only read)
//
// Bindings (group 0):
//   0 ctx              uniform Ctx (prelude): rows
//   1 x                storage read  array<f32>  [rows × FEATURES] (channels last)
//   2 stats            storage rw    array<f32>  [6 × CHANNELS]: rows 0 (mean) and 1 (invstd) written
//   3 moving_mean      storage rw    array<f32>  [CHANNELS]
//   4 moving_variance  storage rw    array<f32>  [CHANNELS]
// Overrides: CHANNELS, FEATURES (values per row), EPSILON, MOMENTUM, TRAINING.
// Dispatch: (ceil(CHANNELS / 4), 1) workgroups of 64.
//
// One workgroup per 4 channels: its 64 invocations take every 64th
// position, then a tree reduction in workgroup memory (1 KiB); the mean is
// broadcast through workgroup memory before the variance pass.
// Only ceil(CHANNELS / 4) workgroups: enough for llvmpipe's few cores (as
// conv2d_bias_grad); a hardware GPU would want the positions split over
// more workgroups with a second combining pass (not measured here).
override CHANNELS: u32;
override FEATURES: u32;
override EPSILON: f32;
override MOMENTUM: f32;
override TRAINING: bool;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;
@group(0) @binding(3) var<storage, read_write> moving_mean: array<f32>;
@group(0) @binding(4) var<storage, read_write> moving_variance: array<f32>;

var<workgroup> part: array<vec4<f32>, 64>;

fn load4(o: u32, c: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(x[o + c.x], x[o + c.y], x[o + c.z], x[o + c.w]);
}

// The sum of part[0..64) into part[0]; every invocation calls it.
fn reduce(lane: u32) {
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (lane < s) {
      part[lane] += part[lane + s];
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let c0 = wg.x * 4u;
  if (!TRAINING) {
    if (lane < 4u && c0 + lane < CHANNELS) {
      let c = c0 + lane;
      stats[c] = moving_mean[c];
      stats[CHANNELS + c] = 1.0 / sqrt(moving_variance[c] + EPSILON);
    }
    return;
  }
  let last = CHANNELS - 1u;
  let c = vec4<u32>(c0, min(c0 + 1u, last), min(c0 + 2u, last), min(c0 + 3u, last));
  let positions = ctx.rows * (FEATURES / CHANNELS);
  let n = f32(positions);
  var acc = vec4<f32>(0.0);
  for (var p = lane; p < positions; p += 64u) {
    acc += load4(p * CHANNELS, c);
  }
  part[lane] = acc;
  reduce(lane);
  let mean = part[0] / n;
  workgroupBarrier(); // everyone has read part[0] before it is overwritten
  acc = vec4<f32>(0.0);
  for (var p = lane; p < positions; p += 64u) {
    let d = load4(p * CHANNELS, c) - mean;
    acc += d * d;
  }
  part[lane] = acc;
  reduce(lane);
  if (lane < 4u && c0 + lane < CHANNELS) {
    let ch = c0 + lane;
    let variance = part[0][lane] / n;
    stats[ch] = mean[lane];
    stats[CHANNELS + ch] = 1.0 / sqrt(variance + EPSILON);
    moving_mean[ch] = moving_mean[ch] * MOMENTUM + mean[lane] * (1.0 - MOMENTUM);
    moving_variance[ch] = moving_variance[ch] * MOMENTUM + variance * (1.0 - MOMENTUM);
  }
}
