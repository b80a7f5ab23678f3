// batch_norm_train and batch_norm_inference: batch normalization's forward
// ops (formulas and the stats layout in batch-norm-reference.ts).
//   wasm    kernels/as/batchnorm.ts: one call, SIMD over channels
//   webgpu  three dispatches (compatibility mode allows 4 storage buffers
//           per stage, fewer than the op touches):
//             batch_norm_stats   one workgroup per 4 channels: the batch's
//                                mean, variance and the moving-statistics
//                                update (training), or the moving statistics
//                                (inference), into stats rows 0–1
//             batch_norm_affine  a = γ·invstd, b = β − mean·a (rows 2–3)
//             batch_norm_apply   y = x·a + b, one invocation per value
//           A user's kernel replaces batch_norm_apply, the pass over every
//           value; the statistics stay built in.
// Bench dims: [B, P, C] (P positions per row, C channels).

import {
  batchNormInference, batchNormTrain, BATCH_STATS_PER_CHANNEL,
  type BatchNormInferenceOp, type BatchNormTrainOp,
} from './batch-norm-reference.js';
import { defineOp, f32Bits, grid1d, NO_OPTIMIZER, type BenchSpec, type CustomContract, type GpuDispatch, type GpuEnv, type OpDef, type RandomFloats } from './types.js';

export type { BatchNormBackwardOp, BatchNormInferenceOp, BatchNormTrainOp } from './batch-norm-reference.js';

type Forward = BatchNormTrainOp | BatchNormInferenceOp;

/**
 * Odd C first (the webgpu suite takes three): after a conv, after a dense
 * layer (P = 1), batch 1 (a dense layer's batch of one has variance 0),
 * C = 1, the MNIST convnet's 26×26×32 map over a small batch.
 */
export const BATCH_NORM_CASES: readonly (readonly number[])[] = [[3, 5, 7], [4, 1, 10], [1, 9, 6], [2, 121, 64], [1, 1, 5], [5, 7, 1], [2, 676, 32]];

/** Inputs of a forward instance: x off-centre (so the mean matters), γ and β, a positive moving variance. */
export function forwardInputs(B: number, P: number, C: number, random: RandomFloats): Record<string, Float32Array> {
  const n = B * P * C;
  return {
    x: random(n, 2).map((v, i) => v + 0.5 * ((i % C) - C / 2)),
    gamma: random(C, 1.5), beta: random(C),
    movingMean: random(C), movingVariance: random(C).map((v) => Math.abs(v) + 0.5),
  };
}

const WG_CHANNELS = 4;

/** `inPlace`: the moving statistics where the op updates them (training). */
function benchOf<T extends Forward>(make: (P: number, C: number) => T, inPlace: string[]): BenchSpec<T> {
  return {
    shape: 'B,P,C',
    dims: (op, B) => [B, op.features / op.channels, op.channels],
    fromMKN: ([M, K, N]) => [M, K, N],
    // Mean, variance, then x·a + b: ~8 FLOP per value; x read once and y written once at the least.
    work: ([B, P, C]) => ({ flops: 8 * B! * P! * C!, bytes: 8 * B! * P! * C!, unit: 'GB/s' }),
    instance: ([B, P, C], random) => {
      const outputs: Record<string, number> = { y: B! * P! * C!, stats: BATCH_STATS_PER_CHANNEL * C!, ...Object.fromEntries(inPlace.map((k) => [k, C!])) };
      return { op: make(P!, C!), rows: B!, inputs: forwardInputs(B!, P!, C!, random), outputs, step: 0, seed: 1, optimizer: NO_OPTIMIZER };
    },
    cases: BATCH_NORM_CASES,
  };
}

const CONTRACT: CustomContract = {
  bindings: [{ name: 'x', access: 'read' }, { name: 'stats', access: 'read' }, { name: 'y', access: 'rw' }],
  overrides: ['CHANNELS', 'FEATURES'],
  output: ([B, P, C]) => [B!, P! * C!],
  outputNames: ['B', 'FEATURES'],
  computes: 'y[i] = x[i]·stats[2·CHANNELS + c] + stats[3·CHANNELS + c] with c = i % CHANNELS (a and b of the built-in statistics dispatches), for the ctx.rows·FEATURES values',
};

async function forwardDispatches(op: Forward, env: GpuEnv, training: boolean): Promise<GpuDispatch[]> {
  const C = op.channels;
  const statsConstants = { CHANNELS: C, FEATURES: op.features, EPSILON: op.epsilon, MOMENTUM: op.kind === 'batch_norm_train' ? op.momentum : 0, TRAINING: training };
  const stats = await env.dispatch('batch_norm_stats', op.layer, statsConstants,
    [env.range(op.x), env.range(op.stats), env.range(op.movingMean), env.range(op.movingVariance)], [Math.ceil(C / WG_CHANNELS), 1]);
  const affine = await env.dispatch('batch_norm_affine', op.layer, { CHANNELS: C, HAS_GAMMA: op.gamma !== null, HAS_BETA: op.beta !== null },
    [env.range(op.stats), env.range(op.gamma), env.range(op.beta)], grid1d(C));
  const io = [env.range(op.x), env.range(op.stats), env.range(op.y)];
  const c = { CHANNELS: C, FEATURES: op.features };
  const apply = env.custom
    ? await env.custom(op.layer, c, io, env.B, op.features)
    : await env.dispatch('batch_norm_apply', op.layer, c, io, grid1d(env.B * op.features));
  return [stats, affine, apply];
}

// The apply kernel comes first: it is the contract kernel a user's replacement is bound like.
const KERNELS = {
  batch_norm_apply: ['read', 'read', 'rw'],
  batch_norm_stats: ['read', 'rw', 'rw', 'rw'],
  batch_norm_affine: ['rw', 'read', 'read'],
} as const;

const WASM_FIELDS = [['x', 'ptr'], ['gamma', 'ptr'], ['beta', 'ptr'], ['movingMean', 'ptr'], ['movingVariance', 'ptr'], ['stats', 'ptr'], ['y', 'ptr'], ['features', 'i32'], ['channels', 'i32'], ['epsilon', 'f32']] as const;
const WASM_PARAMS = [['x', 'usize'], ['gamma', 'usize'], ['beta', 'usize'], ['movingMean', 'usize'], ['movingVariance', 'usize'], ['stats', 'usize'], ['y', 'usize'], ['B', 'i32'], ['F', 'i32'], ['C', 'i32'], ['epsilon', 'f32']] as const;

export const batchNormTrainOp: OpDef<BatchNormTrainOp> = defineOp<BatchNormTrainOp>({
  kind: 'batch_norm_train',
  summary: 'batch normalization in training: per-channel batch mean and variance, y = γ·(x − mean)/√(var + ε) + β, moving statistics updated',
  buffers: (op) => ({
    reads: [op.x, ...(op.gamma ? [op.gamma] : []), ...(op.beta ? [op.beta] : []), op.movingMean, op.movingVariance],
    writes: [op.y, op.stats, op.movingMean, op.movingVariance],
  }),
  reference: (op, e) => batchNormTrain(e.buf(op.x), op.gamma ? e.buf(op.gamma) : null, op.beta ? e.buf(op.beta) : null,
    e.buf(op.movingMean), e.buf(op.movingVariance), e.buf(op.stats), e.buf(op.y), e.rows, op.features, op.channels, op.epsilon, op.momentum),
  wasm: {
    code: 100, fn: 'batchNormTrain', module: './batchnorm',
    fields: [...WASM_FIELDS, ['momentum', 'f32']],
    params: [...WASM_PARAMS, ['momentum', 'f32']],
    args: '{x}, {gamma}, {beta}, {movingMean}, {movingVariance}, {stats}, {y}, rows, {features}, {channels}, {epsilon}, {momentum}',
    encode: (op, L) => [L.ptr(op.x), L.ptr(op.gamma), L.ptr(op.beta), L.ptr(op.movingMean), L.ptr(op.movingVariance), L.ptr(op.stats), L.ptr(op.y),
      op.features, op.channels, f32Bits(op.epsilon), f32Bits(op.momentum)],
  },
  webgpu: { kernels: KERNELS, dispatches: (op, env) => forwardDispatches(op, env, true) },
  bench: benchOf<BatchNormTrainOp>((P, C) => ({
    kind: 'batch_norm_train', layer: 'bench', x: 'x', gamma: 'gamma', beta: 'beta', movingMean: 'movingMean', movingVariance: 'movingVariance',
    stats: 'stats', y: 'y', features: P * C, channels: C, epsilon: 0.001, momentum: 0.99,
  }), ['movingMean', 'movingVariance']),
  custom: CONTRACT,
  gradient: {
    wrt: (op) => [op.x, ...(op.gamma ? [op.gamma] : []), ...(op.beta ? [op.beta] : [])],
    outputs: (op) => [op.y],
    backward: (op, grad) => ({
      ops: [{
        kind: 'batch_norm_backward', layer: op.layer, dy: grad(op.y), x: op.x, stats: op.stats, dx: grad(op.x),
        dgamma: op.gamma ? grad(op.gamma) : null, dbeta: op.beta ? grad(op.beta) : null, features: op.features, channels: op.channels,
      } as never],
    }),
  },
});

export const batchNormInferenceOp: OpDef<BatchNormInferenceOp> = defineOp<BatchNormInferenceOp>({
  kind: 'batch_norm_inference',
  summary: 'batch normalization in evaluation and prediction: y = γ·(x − moving_mean)/√(moving_variance + ε) + β',
  buffers: (op) => ({
    reads: [op.x, ...(op.gamma ? [op.gamma] : []), ...(op.beta ? [op.beta] : []), op.movingMean, op.movingVariance],
    writes: [op.y, op.stats],
  }),
  reference: (op, e) => batchNormInference(e.buf(op.x), op.gamma ? e.buf(op.gamma) : null, op.beta ? e.buf(op.beta) : null,
    e.buf(op.movingMean), e.buf(op.movingVariance), e.buf(op.stats), e.buf(op.y), e.rows, op.features, op.channels, op.epsilon),
  wasm: {
    code: 101, fn: 'batchNormInference', module: './batchnorm',
    fields: WASM_FIELDS,
    params: WASM_PARAMS,
    args: '{x}, {gamma}, {beta}, {movingMean}, {movingVariance}, {stats}, {y}, rows, {features}, {channels}, {epsilon}',
    encode: (op, L) => [L.ptr(op.x), L.ptr(op.gamma), L.ptr(op.beta), L.ptr(op.movingMean), L.ptr(op.movingVariance), L.ptr(op.stats), L.ptr(op.y),
      op.features, op.channels, f32Bits(op.epsilon)],
  },
  webgpu: { kernels: KERNELS, dispatches: (op, env) => forwardDispatches(op, env, false) },
  bench: benchOf<BatchNormInferenceOp>((P, C) => ({
    kind: 'batch_norm_inference', layer: 'bench', x: 'x', gamma: 'gamma', beta: 'beta', movingMean: 'movingMean', movingVariance: 'movingVariance',
    stats: 'stats', y: 'y', features: P * C, channels: C, epsilon: 0.001,
  }), []),
  custom: CONTRACT,
});
