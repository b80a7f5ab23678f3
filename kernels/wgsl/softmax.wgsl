// softmax.wgsl — predict's output rows: row-wise softmax probabilities, or
// (OUTPUT) elementwise sigmoid probabilities, or the outputs as they are.
//
// Bindings (group 0):
//   0 ctx     uniform Ctx (prelude): rows = M, offset = the batch's first
//             row in the output (predict writes every batch into one buffer)
//   1 logits  storage read  array<f32>  [M × C]
//   2 probs   storage rw    array<f32>  [(offset + M) × C] or more; rows
//             offset … offset + M − 1 are written
// Overrides: C; OUTPUT: 0 softmax (default), 1 sigmoid 1/(1 + exp(−z)),
//   2 identity (regression losses).
// Dispatch: (ceil(M / 64), 1) workgroups of 64, one row per invocation.
override C: u32;
override OUTPUT: u32 = 0u;

@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> probs: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.x;
  if (r >= ctx.rows) {
    return;
  }
  let o = r * C;
  let po = (ctx.offset + r) * C;
  if (OUTPUT == 1u) {
    for (var c = 0u; c < C; c++) {
      probs[po + c] = 1.0 / (1.0 + exp(-logits[o + c]));
    }
    return;
  }
  if (OUTPUT == 2u) {
    for (var c = 0u; c < C; c++) {
      probs[po + c] = logits[o + c];
    }
    return;
  }
  var mx = logits[o];
  for (var c = 1u; c < C; c++) {
    mx = max(mx, logits[o + c]);
  }
  var sum = 0.0;
  for (var c = 0u; c < C; c++) {
    let e = exp(logits[o + c] - mx);
    probs[po + c] = e;
    sum += e;
  }
  let inv = 1.0 / sum;
  for (var c = 0u; c < C; c++) {
    probs[po + c] = probs[po + c] * inv;
  }
}
