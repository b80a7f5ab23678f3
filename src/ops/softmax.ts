// softmax as an activation (the loss has its own fused softmax_xent):
//   softmax           y = exp(x − max x) / Σ exp(x − max x), row-wise over the last axis
//   softmax_backward  dx = y·(dy − Σ_j dy_j·y_j), per row (from y only)
// Rows of `features` values; the wasm and WGSL kernels keep one row's
// reductions in f32, the reference in f64.

import { defineOp, grid1d, NO_OPTIMIZER, type OpDef, type OpRecordBase } from './types.js';

export interface SoftmaxOp extends OpRecordBase { kind: 'softmax'; x: string; y: string; features: number }
export interface SoftmaxBackwardOp extends OpRecordBase { kind: 'softmax_backward'; dy: string; y: string; dx: string; features: number }

/** Row-wise softmax of M rows of F values (max-subtracted). Plain loops: runs on Float64Arrays too. */
export function softmaxForward(X: Float32Array, Y: Float32Array, M: number, F: number): void {
  const e = new Float64Array(F);
  for (let i = 0; i < M; i++) {
    const o = i * F;
    let max = -Infinity;
    for (let j = 0; j < F; j++) max = Math.max(max, X[o + j]!);
    let sum = 0;
    for (let j = 0; j < F; j++) sum += (e[j] = Math.exp(X[o + j]! - max));
    for (let j = 0; j < F; j++) Y[o + j] = e[j]! / sum;
  }
}

/** dX = Y·(dY − Σ dY·Y) per row. */
export function softmaxBackward(dY: Float32Array, Y: Float32Array, dX: Float32Array, M: number, F: number): void {
  for (let i = 0; i < M; i++) {
    const o = i * F;
    let dot = 0;
    for (let j = 0; j < F; j++) dot += dY[o + j]! * Y[o + j]!;
    for (let j = 0; j < F; j++) dX[o + j] = Y[o + j]! * (dY[o + j]! - dot);
  }
}

const shape = {
  shape: 'M,F',
  fromMKN: ([M, , N]: readonly [number, number, number]) => [M, N],
};

const softmaxOp: OpDef<SoftmaxOp> = {
  ...defineOp<SoftmaxOp>({
    kind: 'softmax',
    summary: 'activation y = softmax(x), row-wise over the last axis',
    buffers: (op) => ({ reads: [op.x], writes: [op.y] }),
    reference: (op, e) => softmaxForward(e.buf(op.x), e.buf(op.y), e.rows, op.features),
    wasm: {
      code: 37,
      fn: 'softmaxRows',
      module: './activation',
      fields: [['x', 'ptr'], ['y', 'ptr'], ['features', 'i32']],
      params: [['x', 'usize'], ['y', 'usize'], ['M', 'i32'], ['F', 'i32']],
      args: '{x}, {y}, rows, {features}',
      encode: (op, L) => [L.ptr(op.x), L.ptr(op.y), op.features],
    },
    webgpu: {
      kernels: { softmax_rows: ['read', 'rw'] },
      async dispatches(op, env) {
        const io = [env.range(op.x), env.range(op.y)];
        const c = { FEATURES: op.features };
        if (env.custom) return [await env.custom(op.layer, c, io, env.B, op.features)];
        // One 64-invocation workgroup per row.
        return [await env.dispatch('softmax_rows', `${op.layer} softmax`, c, io, grid1d(env.B * 64))];
      },
    },
    bench: {
      ...shape,
      dims: (op, B) => [B, op.features],
      work: ([M, F]) => ({ flops: 5 * M! * F!, bytes: 8 * M! * F!, unit: 'GB/s' }),
      instance: ([M, F], random) => ({
        op: { kind: 'softmax', layer: 'bench', x: 'x', y: 'y', features: F! },
        rows: M!, inputs: { x: random(M! * F!, 4) }, outputs: { y: M! * F! }, step: 0, seed: 1, optimizer: NO_OPTIMIZER,
      }),
    },
    custom: {
      bindings: [{ name: 'x', access: 'read' }, { name: 'y', access: 'rw' }],
      overrides: ['FEATURES'],
      output: ([M, F]) => [M!, F!],
      outputNames: ['M', 'F'],
      computes: 'y[M×F] = exp(x − max) / Σ exp(x − max) over each row of F = FEATURES values; M = ctx.rows',
    },
  }),
  gradient: {
    wrt: (op) => [op.x],
    backward: (op, grad) => ({
      ops: [{ kind: 'softmax_backward', layer: op.layer, dy: grad(op.y), y: op.y, dx: grad(op.x), features: op.features } as SoftmaxBackwardOp],
    }),
  },
};

const softmaxBackwardOp = defineOp<SoftmaxBackwardOp>({
  kind: 'softmax_backward',
  summary: 'dx = y·(dy − Σ dy·y) per row (softmax backward)',
  buffers: (op) => ({ reads: [op.dy, op.y], writes: [op.dx] }),
  reference: (op, e) => softmaxBackward(e.buf(op.dy), e.buf(op.y), e.buf(op.dx), e.rows, op.features),
  wasm: {
    code: 38,
    fn: 'softmaxBackward',
    module: './activation',
    fields: [['dy', 'ptr'], ['y', 'ptr'], ['dx', 'ptr'], ['features', 'i32']],
    params: [['dy', 'usize'], ['y', 'usize'], ['dx', 'usize'], ['M', 'i32'], ['F', 'i32']],
    args: '{dy}, {y}, {dx}, rows, {features}',
    encode: (op, L) => [L.ptr(op.dy), L.ptr(op.y), L.ptr(op.dx), op.features],
  },
  webgpu: {
    kernels: { softmax_backward: ['read', 'read', 'rw'] },
    async dispatches(op, env) {
      const io = [env.range(op.dy), env.range(op.y), env.range(op.dx)];
      const c = { FEATURES: op.features };
      if (env.custom) return [await env.custom(op.layer, c, io, env.B, op.features)];
      return [await env.dispatch('softmax_backward', `${op.layer} softmax_backward`, c, io, grid1d(env.B * 64))];
    },
  },
  bench: {
    ...shape,
    dims: (op, B) => [B, op.features],
    work: ([M, F]) => ({ flops: 4 * M! * F!, bytes: 12 * M! * F!, unit: 'GB/s' }),
    instance([M, F], random) {
      const y = new Float32Array(M! * F!);
      softmaxForward(random(M! * F!, 4), y, M!, F!);
      return {
        op: { kind: 'softmax_backward', layer: 'bench', dy: 'dy', y: 'y', dx: 'dx', features: F! },
        rows: M!, inputs: { dy: random(M! * F!), y }, outputs: { dx: M! * F! }, step: 0, seed: 1, optimizer: NO_OPTIMIZER,
      };
    },
  },
  custom: {
    bindings: [{ name: 'dy', access: 'read' }, { name: 'y', access: 'read' }, { name: 'dx', access: 'rw' }],
    overrides: ['FEATURES'],
    output: ([M, F]) => [M!, F!],
    outputNames: ['M', 'F'],
    computes: 'dx[M×F] = y·(dy − Σ_j dy_j·y_j) over each row of F = FEATURES values; M = ctx.rows',
  },
});

export const softmaxOps = [softmaxOp, softmaxBackwardOp] as const;
