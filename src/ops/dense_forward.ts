// dense_forward: Y[M×N] = X[M×K]·W[K×N] + b, with the layer's ReLU fused
// into the epilogue (other activations run as their own op after it).
// W is Keras's kernel layout (inputs × units), all row-major f32.

import { matmulDispatch, noSequence, seqConstant } from './matmul-grid.js';
import { defineOp, NO_OPTIMIZER, present, type OpRecordBase } from './types.js';

export interface DenseForwardOp extends OpRecordBase {
  kind: 'dense_forward'; x: string; w: string; b: string | null; y: string; k: number; n: number; relu: boolean;
  /** Positions per example (a dense layer on a [T, K] sequence acts on the last axis): M = rows · seq. Default 1. */
  seq?: number;
}

/** Y = X·W + b, then ReLU when `relu`. b may be null (use_bias: false). Loops i-k-j for contiguous access. */
export function denseForward(
  X: Float32Array, W: Float32Array, b: Float32Array | null, Y: Float32Array,
  M: number, K: number, N: number, relu: boolean,
): void {
  for (let i = 0; i < M; i++) {
    const yo = i * N;
    if (b) for (let j = 0; j < N; j++) Y[yo + j] = b[j]!;
    else Y.fill(0, yo, yo + N);
    const xo = i * K;
    for (let k = 0; k < K; k++) {
      const x = X[xo + k]!;
      if (x === 0) continue; // MNIST inputs are mostly zeros: skipping is exact
      const wo = k * N;
      for (let j = 0; j < N; j++) Y[yo + j]! += x * W[wo + j]!;
    }
    if (relu) for (let j = 0; j < N; j++) if (!(Y[yo + j]! > 0)) Y[yo + j] = 0;
  }
}

export const denseForwardOp = defineOp<DenseForwardOp>({
  kind: 'dense_forward',
  summary: 'Y = X·W + b, optional fused ReLU',
  buffers: (op) => ({ reads: present(op.x, op.w, op.b), writes: [op.y] }),
  reference: (op, e) => denseForward(e.buf(op.x), e.buf(op.w), op.b ? e.buf(op.b) : null, e.buf(op.y), e.rows * (op.seq ?? 1), op.k, op.n, op.relu),
  wasm: {
    code: 2,
    fn: 'denseForward',
    module: './dense',
    fields: [['x', 'ptr'], ['w', 'ptr'], ['b', 'ptr'], ['y', 'ptr'], ['k', 'i32'], ['n', 'i32'], ['relu', 'i32'], ['sparse', 'i32'], ['seq', 'i32']],
    params: [['x', 'usize'], ['w', 'usize'], ['b', 'usize'], ['y', 'usize'], ['M', 'i32'], ['K', 'i32'], ['N', 'i32'], ['relu', 'i32'], ['sparse', 'i32']],
    args: '{x}, {w}, {b}, {y}, rows * {seq}, {k}, {n}, {relu}, {sparse}',
    encode: (op, L) => [L.ptr(op.x), L.ptr(op.w), L.ptr(op.b), L.ptr(op.y), op.k, op.n, op.relu ? 1 : 0, L.sparse(op.x) ? 1 : 0, op.seq ?? 1],
  },
  webgpu: {
    kernels: {
      dense_forward: ['read', 'read', 'read', 'rw'],
      dense_forward_vec4: ['read', 'read', 'read', 'rw'],
      dense_forward_tiled: ['read', 'read', 'read', 'rw'],
    },
    async dispatches(op, env) {
      const io = [env.range(op.x), env.range(op.w), env.range(op.b), env.range(op.y)];
      const base = { K: op.k, N: op.n, HAS_BIAS: !!op.b, RELU: op.relu, ...seqConstant(op.seq) };
      const detail = `${op.layer} ${env.mode}`;
      if (env.custom) return [await env.custom(detail, noSequence(op, base), io, env.B, op.n)];
      // Barrier-free 4×4 register blocks beat workgroup tiles on llvmpipe; vec4 loads when K and N allow.
      const kernel = env.prefer.denseForward === 'tiled' ? 'dense_forward_tiled' : op.k % 4 === 0 && op.n % 4 === 0 ? 'dense_forward_vec4' : 'dense_forward';
      const { constants, grid } = matmulDispatch(kernel, env.B * (op.seq ?? 1), op.k, op.n);
      return [await env.dispatch(kernel, detail, { ...base, ...constants }, io, grid)];
    },
  },
  bench: {
    shape: 'M,K,N',
    dims: (op, B) => [B, op.k, op.n],
    fromMKN: ([M, K, N]) => [M, K, N],
    work: ([M, K, N]) => ({ flops: 2 * M! * K! * N!, bytes: 4 * (M! * K! + K! * N! + N! + M! * N!), unit: 'GFLOP/s' }),
    instance: ([M, K, N], random) => ({
      op: { kind: 'dense_forward', layer: 'bench', x: 'x', w: 'w', b: 'b', y: 'y', k: K!, n: N!, relu: true },
      rows: M!, inputs: { x: random(M! * K!), w: random(K! * N!, 0.2), b: random(N!, 0.5) }, outputs: { y: M! * N! },
      step: 0, seed: 1, optimizer: NO_OPTIMIZER,
    }),
  },
  custom: {
    bindings: [{ name: 'x', access: 'read' }, { name: 'w', access: 'read' }, { name: 'b', access: 'read' }, { name: 'y', access: 'rw' }],
    overrides: ['K', 'N', 'HAS_BIAS', 'RELU'],
    output: ([M, , N]) => [M!, N!],
    outputNames: ['M', 'N'],
    computes: 'Y[M×N] = X[M×K]·W[K×N] + b (when HAS_BIAS), then ReLU (when RELU); M = ctx.rows',
  },
  gradient: {
    wrt: (op) => present(op.x, op.w, op.b),
    backward: (op, grad) => {
      const dz = op.relu ? 'grad:preact' : grad(op.y);
      const ops: OpRecordBase[] = [];
      if (op.relu) ops.push({ kind: 'relu_backward', layer: op.layer, dy: grad(op.y), y: op.y, dx: dz, features: op.n } as OpRecordBase);
      ops.push({ kind: 'dense_backward_weights', layer: op.layer, x: op.x, dy: dz, dw: grad(op.w), db: op.b ? grad(op.b) : null, k: op.k, n: op.n } as OpRecordBase);
      ops.push({ kind: 'dense_backward_input', layer: op.layer, dy: dz, w: op.w, dx: grad(op.x), reluOut: null, k: op.k, n: op.n } as OpRecordBase);
      return { ops, scratch: op.relu ? { [dz]: op.y } : {} };
    },
  },
});
