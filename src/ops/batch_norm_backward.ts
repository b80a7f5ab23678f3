// batch_norm_backward: the fused gradient of batch_norm_train, dx, dγ and dβ
// from dy, x and the forward's stats (formulas in batch-norm-reference.ts).
//   wasm    kernels/as/batchnorm.ts: per-channel sums, then dx; SIMD over channels
//   webgpu  batch_norm_backward_reduce  Σdy and Σdy·x̂ per channel into stats
//                                       rows 4–5, one workgroup per 4 channels
//           batch_norm_backward_params  dγ, dβ from those sums (when there are any)
//           batch_norm_backward_input   dx, one invocation per value (when
//                                       something below needs it)
//           A user's kernel replaces batch_norm_backward_input.
// Bench dims: [B, P, C].

import { batchNormBackward, batchNormTrain, BATCH_STATS_PER_CHANNEL, type BatchNormBackwardOp } from './batch-norm-reference.js';
import { BATCH_NORM_CASES, forwardInputs } from './batch_norm.js';
import { defineOp, grid1d, NO_OPTIMIZER } from './types.js';

export const batchNormBackwardOp = defineOp<BatchNormBackwardOp>({
  kind: 'batch_norm_backward',
  summary: 'batch normalization\'s gradient: dγ = Σdy·x̂, dβ = Σdy, dx = γ·invstd·(dy − Σdy/n − x̂·Σdy·x̂/n)',
  buffers: (op) => ({
    reads: [op.dy, op.x, op.stats],
    writes: [op.stats, ...(op.dx ? [op.dx] : []), ...(op.dgamma ? [op.dgamma] : []), ...(op.dbeta ? [op.dbeta] : [])],
  }),
  reference: (op, e) => batchNormBackward(e.buf(op.dy), e.buf(op.x), e.buf(op.stats), op.dx ? e.buf(op.dx) : null,
    op.dgamma ? e.buf(op.dgamma) : null, op.dbeta ? e.buf(op.dbeta) : null, e.rows, op.features, op.channels),
  wasm: {
    code: 102, fn: 'batchNormBackward', module: './batchnorm',
    fields: [['dy', 'ptr'], ['x', 'ptr'], ['stats', 'ptr'], ['dx', 'ptr'], ['dgamma', 'ptr'], ['dbeta', 'ptr'], ['features', 'i32'], ['channels', 'i32']],
    params: [['dy', 'usize'], ['x', 'usize'], ['stats', 'usize'], ['dx', 'usize'], ['dgamma', 'usize'], ['dbeta', 'usize'], ['B', 'i32'], ['F', 'i32'], ['C', 'i32']],
    args: '{dy}, {x}, {stats}, {dx}, {dgamma}, {dbeta}, rows, {features}, {channels}',
    encode: (op, L) => [L.ptr(op.dy), L.ptr(op.x), L.ptr(op.stats), L.ptr(op.dx), L.ptr(op.dgamma), L.ptr(op.dbeta), op.features, op.channels],
  },
  webgpu: {
    // The dx kernel first: it is the contract kernel a user's replacement is bound like.
    kernels: {
      batch_norm_backward_input: ['read', 'read', 'read', 'rw'],
      batch_norm_backward_reduce: ['read', 'read', 'rw'],
      batch_norm_backward_params: ['read', 'rw', 'rw'],
    },
    async dispatches(op, env) {
      const C = op.channels, F = op.features;
      const out = [await env.dispatch('batch_norm_backward_reduce', op.layer, { CHANNELS: C, FEATURES: F },
        [env.range(op.dy), env.range(op.x), env.range(op.stats)], [Math.ceil(C / 4), 1])];
      if (op.dgamma || op.dbeta) {
        out.push(await env.dispatch('batch_norm_backward_params', op.layer, { CHANNELS: C, HAS_GAMMA: op.dgamma !== null, HAS_BETA: op.dbeta !== null },
          [env.range(op.stats), op.dgamma ? env.range(op.dgamma) : env.scratch(), op.dbeta ? env.range(op.dbeta) : env.scratch()], grid1d(C)));
      }
      if (op.dx) {
        const io = [env.range(op.dy), env.range(op.x), env.range(op.stats), env.range(op.dx)];
        const c = { CHANNELS: C, FEATURES: F };
        out.push(env.custom ? await env.custom(op.layer, c, io, env.B, F) : await env.dispatch('batch_norm_backward_input', op.layer, c, io, grid1d(env.B * F)));
      }
      return out;
    },
  },
  bench: {
    shape: 'B,P,C',
    dims: (op, B) => [B, op.features / op.channels, op.channels],
    fromMKN: ([M, K, N]) => [M, K, N],
    // Two passes over dy and x (sums, then dx): ~14 FLOP per value; dy and x read and dx written once at the least.
    work: ([B, P, C]) => ({ flops: 14 * B! * P! * C!, bytes: 12 * B! * P! * C!, unit: 'GB/s' }),
    instance: ([B, P, C], random) => {
      const n = B! * P! * C!;
      // The stats of a real forward pass over x, so x̂ is what training sees.
      const f = forwardInputs(B!, P!, C!, random);
      const stats = new Float32Array(BATCH_STATS_PER_CHANNEL * C!);
      batchNormTrain(f.x!, f.gamma!, f.beta!, f.movingMean!, f.movingVariance!, stats, new Float32Array(n), B!, P! * C!, C!, 0.001, 0.99);
      return {
        op: { kind: 'batch_norm_backward', layer: 'bench', dy: 'dy', x: 'x', stats: 'stats', dx: 'dx', dgamma: 'dgamma', dbeta: 'dbeta', features: P! * C!, channels: C! },
        rows: B!,
        inputs: { dy: random(n), x: f.x!, stats },
        outputs: { stats: BATCH_STATS_PER_CHANNEL * C!, dx: n, dgamma: C!, dbeta: C! },
        step: 0, seed: 1, optimizer: NO_OPTIMIZER,
      };
    },
    cases: BATCH_NORM_CASES,
  },
  custom: {
    bindings: [{ name: 'dy', access: 'read' }, { name: 'x', access: 'read' }, { name: 'stats', access: 'read' }, { name: 'dx', access: 'rw' }],
    overrides: ['CHANNELS', 'FEATURES'],
    output: ([B, P, C]) => [B!, P! * C!],
    outputNames: ['B', 'FEATURES'],
    computes: 'dx[i] = a·(dy[i] − Σdy/n − x̂·Σdy·x̂/n) with c = i % CHANNELS, x̂ = (x[i] − mean)·invstd, n = ctx.rows·FEATURES/CHANNELS, and mean, invstd, a, Σdy, Σdy·x̂ the stats rows 0, 1, 2, 4, 5 (the built-in reduce dispatch fills rows 4–5)',
  },
});
