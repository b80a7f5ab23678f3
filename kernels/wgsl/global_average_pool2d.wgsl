// global_average_pool2d.wgsl — y[b, c] = Σ_p x[b, p, c] / HW over the
// HW = H·W positions of each row, channels_last.
//
// Bindings (group 0):
//   0 ctx   uniform Ctx (prelude): rows
//   1 x     storage read  array<f32>  [rows × HW × CHANNELS]
//   2 y     storage rw    array<f32>  [rows × CHANNELS]
// Overrides: HW, CHANNELS.
// Dispatch: a 2-D grid of 64-invocation workgroups covering rows·CHANNELS
// outputs, one per invocation (prelude's flat_index); each sums its
// channel's HW values, adjacent invocations reading adjacent channels.
override HW: u32;
override CHANNELS: u32;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= ctx.rows * CHANNELS) {
    return;
  }
  let base = (i / CHANNELS) * HW * CHANNELS + i % CHANNELS;
  var s = 0.0;
  for (var p = 0u; p < HW; p = p + 1u) {
    s = s + x[base + p * CHANNELS];
  }
  y[i] = s / f32(HW);
}
