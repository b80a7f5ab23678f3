// The regression losses, fused forward + backward, one factory for three ops:
//   mean_squared_error   l(e) = e²                       l'(e) = 2e
//   mean_absolute_error  l(e) = |e|                      l'(e) = sign(e)
//   huber                l(e) = ½e² if |e| ≤ δ,          l'(e) = e, or δ·sign(e)
//                               else δ(|e| − ½δ)
// with e = y − t (outputs minus float targets, W per row). As Keras: the
// mean over the last axis per example, then the mean over the batch, so
//   loss_r = (1/W) Σ_j l(e_rj),   dY_rj = l'(e_rj) / (W · rows).
// The per-example sums accumulate into the loss accumulator, or, as a
// metric (dOutputs null, `accumulator` k ≥ 0: the mse and mae metrics), into
// metric accumulator k. The wasm call doubles as predict's output copy (gProbs).

import { TARGETS_BUFFER } from './gather_targets.js';
import { defineOp, f32Bits, NO_OPTIMIZER, present, type OpDef, type OpRecordBase } from './types.js';

export type RegressionKind = 'mean_squared_error' | 'mean_absolute_error' | 'huber';

export interface RegressionLossOp<K extends RegressionKind = RegressionKind> extends OpRecordBase {
  kind: K;
  outputs: string;
  targets: string;
  /** dLoss/dOutputs (training), or null. */
  dOutputs: string | null;
  width: number;
  /** Huber's δ (ignored by the others). */
  delta: number;
  /** −1: the loss accumulator; k ≥ 0: metric accumulator k. */
  accumulator: number;
}

/** LOSS override of regression_loss.wgsl and the AssemblyScript kernel's `kind`. */
const LOSS_ID: Record<RegressionKind, number> = { mean_squared_error: 0, mean_absolute_error: 1, huber: 2 };

const sign = (e: number) => (e > 0 ? 1 : e < 0 ? -1 : 0);

/** l(e) and l'(e) of each loss, float64. */
export function regressionTerm(kind: RegressionKind, e: number, delta: number): [loss: number, slope: number] {
  if (kind === 'mean_squared_error') return [e * e, 2 * e];
  if (kind === 'mean_absolute_error') return [Math.abs(e), sign(e)];
  const a = Math.abs(e);
  return a <= delta ? [0.5 * e * e, e] : [delta * a - 0.5 * delta * delta, delta * sign(e)];
}

/** The summed per-example losses of M rows; dY (if given) = l'(e) / (W · gradScale). */
export function regressionLoss(kind: RegressionKind, Y: Float32Array, T: Float32Array, dY: Float32Array | null, M: number, W: number, delta: number, gradScale: number): number {
  let lossSum = 0;
  const inv = 1 / (W * gradScale);
  for (let i = 0; i < M; i++) {
    let row = 0;
    for (let j = 0; j < W; j++) {
      const o = i * W + j;
      const [l, slope] = regressionTerm(kind, Y[o]! - T[o]!, delta);
      row += l;
      if (dY) dY[o] = slope * inv;
    }
    lossSum += row / W;
  }
  return lossSum;
}

const FORMULA: Record<RegressionKind, string> = {
  mean_squared_error: 'mean over W of (y − t)²',
  mean_absolute_error: 'mean over W of |y − t|',
  huber: 'mean over W of ½e² (|e| ≤ δ) or δ(|e| − ½δ), e = y − t',
};

function regressionOp<K extends RegressionKind>(kind: K, code: number): OpDef<RegressionLossOp<K>> {
  return defineOp<RegressionLossOp<K>>({
    kind,
    summary: `fused ${kind} loss (${FORMULA[kind]}, mean over the batch) and dY; or, without dY, a metric`,
    buffers: (op) => ({ reads: [op.outputs, op.targets], writes: present(op.dOutputs) }),
    reference(op, e) {
      const sum = regressionLoss(kind, e.buf(op.outputs), e.buf(op.targets), op.dOutputs ? e.buf(op.dOutputs) : null, e.rows, op.width, op.delta, e.rows);
      if (op.accumulator < 0) e.addMetrics(sum, 0, e.rows);
      else e.addMetric(op.accumulator, sum);
    },
    wasm: {
      code,
      fn: 'regressionLoss',
      module: './regression',
      fields: [['outputs', 'ptr'], ['targets', 'ptr'], ['dOutputs', 'ptr'], ['width', 'i32'], ['delta', 'f32'], ['accumulator', 'i32']],
      params: [['kind', 'i32'], ['y', 'usize'], ['t', 'usize'], ['dy', 'usize'], ['M', 'i32'], ['W', 'i32'], ['delta', 'f32'], ['gradScale', 'f64'], ['metrics', 'usize'], ['accumulator', 'i32']],
      imports: [['copyOutputs', './regression']],
      args: `${LOSS_ID[kind]}, {outputs}, {targets}, {dOutputs}, rows, {width}, {delta}, <f64>rows, gMetrics, {accumulator}`,
      // predict: the outputs as they are (metric records, accumulator ≥ 0, write nothing then).
      guard: { when: 'gProbs != 0', then: 'copyOutputs({outputs}, gProbs + ((<usize>start * <usize>{width}) << 2), rows, {width}, {accumulator})' },
      encode: (op, L) => [L.ptr(op.outputs), L.ptr(op.targets), L.ptr(op.dOutputs), op.width, f32Bits(op.delta), op.accumulator],
    },
    webgpu: {
      kernels: { regression_loss: ['read', 'read', 'rw', 'rw'] },
      async dispatches(op, env) {
        const grad = op.dOutputs !== null && env.mode === 'train';
        const c = { W: op.width, LOSS: LOSS_ID[kind], DELTA: op.delta, HAS_GRAD: grad };
        const b = [env.range(op.outputs), env.range(op.targets), grad ? env.range(op.dOutputs) : env.scratch(), env.metrics(op.accumulator < 0 ? undefined : op.accumulator)];
        if (env.custom) return [await env.custom(env.mode, c, b, env.B, op.width)];
        return [await env.dispatch('regression_loss', `${env.mode} ${op.accumulator < 0 ? 'loss' : `metric ${op.accumulator}`}`, c, b, [1, 1])];
      },
    },
    bench: {
      shape: 'M,W',
      dims: (op, B) => [B, op.width],
      fromMKN: ([M, , N]) => [M, N],
      work: ([M, W]) => ({ flops: 4 * M! * W!, bytes: 12 * M! * W!, unit: 'GB/s' }),
      instance([M, W], random) {
        // Errors in [−3, 3]: Huber's δ = 1 sees both branches.
        const outputs = random(M! * W!, 2), targets = random(M! * W!, 1);
        return {
          op: { kind, layer: 'loss', outputs: 'outputs', targets: TARGETS_BUFFER, dOutputs: 'dOutputs', width: W!, delta: 1, accumulator: -1 } as RegressionLossOp<K>,
          rows: M!, inputs: { outputs, [TARGETS_BUFFER]: targets }, outputs: { dOutputs: M! * W! }, step: 0, seed: 1, optimizer: NO_OPTIMIZER,
        };
      },
    },
    custom: {
      bindings: [{ name: 'outputs', access: 'read' }, { name: 'targets', access: 'read' }, { name: 'dOutputs', access: 'rw' }, { name: 'metrics', access: 'rw' }],
      overrides: ['W', 'LOSS', 'DELTA', 'HAS_GRAD'],
      output: ([M, W]) => [M!, W!],
      outputNames: ['M', 'W'],
      computes: `dOutputs = l'(y − t) · ctx.inv_rows / W (LOSS ${LOSS_ID[kind]}: ${kind}); adds Σ_rows mean_W l(y − t) to metrics (fixed point, 2^-24) and the rows to metrics[3]`,
    },
  });
}

export const meanSquaredErrorOp = regressionOp('mean_squared_error', 91);
export const meanAbsoluteErrorOp = regressionOp('mean_absolute_error', 92);
export const huberOp = regressionOp('huber', 93);
export const REGRESSION_OPS = [meanSquaredErrorOp, meanAbsoluteErrorOp, huberOp] as const;
