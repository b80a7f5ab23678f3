// layer_norm: layer normalization over the last axis (Keras
// LayerNormalization, axis −1). Each example holds G vectors of D values
// (G = positions of a sequence, 1 for a flat input); each of the rows·G
// vectors is normalised on its own:
//   μ = Σx/D,  σ² = Σ(x − μ)²/D (biased, as Keras),  rstd = 1/√(σ² + ε)
//   y = (x − μ)·rstd·γ + β        (γ absent: scale false; β absent: center false)
// mean and rstd [rows·G] are written for the backward.
// layer_norm_backward, with x̂ = (x − μ)·rstd and g = dy·γ, per vector:
//   dx = rstd·(g − mean(g) − x̂·mean(g·x̂))
//   dγ[d] = Σ_vectors dy·x̂,  dβ[d] = Σ_vectors dy    (vectors in order; overwritten)
// Fused: the wasm kernel makes one pass per vector for the sums, dγ and dβ,
// and one for dx. WebGPU: layer_norm_backward (dx; one invocation per
// vector for D ≤ 256, a workgroup per vector beyond: the _wide variants, as
// for the forward) and layer_norm_param_grad (one invocation per column d
// walking the vectors in order: dγ, dβ). A user's kernel replaces the dx
// kernel; the parameter sums stay built in (as dense's bias_grad).
// Bench dims [M, G, D, affine]: affine bit 0 = γ (and dγ), bit 1 = β (and dβ).
// Each WGSL kernel binds 6 storage buffers (the default limit is 8 per stage,
// also in compatibility mode).

import { defineOp, f32Bits, grid1d, NO_OPTIMIZER, present, type OpRecordBase, type RandomFloats } from './types.js';

export interface LayerNormOp extends OpRecordBase {
  kind: 'layer_norm'; x: string; gamma: string | null; beta: string | null; y: string; mean: string; rstd: string;
  groups: number; dim: number; epsilon: number;
}
export interface LayerNormBackwardOp extends OpRecordBase {
  kind: 'layer_norm_backward'; dy: string; x: string; gamma: string | null; mean: string; rstd: string;
  dx: string; dgamma: string | null; dbeta: string | null; groups: number; dim: number;
}

/** Normalises n vectors of D values (sums in float64; mean and rstd stored as f32, y from them). */
export function layerNormForward(
  x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, y: Float32Array,
  mean: Float32Array, rstd: Float32Array, n: number, D: number, epsilon: number,
): void {
  const eps = Math.fround(epsilon);
  for (let v = 0; v < n; v++) {
    const o = v * D;
    let s = 0;
    for (let d = 0; d < D; d++) s += x[o + d]!;
    const mu = s / D;
    let q = 0;
    for (let d = 0; d < D; d++) q += (x[o + d]! - mu) ** 2;
    mean[v] = mu;
    rstd[v] = 1 / Math.sqrt(q / D + eps);
    const m = mean[v]!, r = rstd[v]!;
    for (let d = 0; d < D; d++) {
      const xh = (x[o + d]! - m) * r;
      y[o + d] = xh * (gamma ? gamma[d]! : 1) + (beta ? beta[d]! : 0);
    }
  }
}

/** dx, and dγ, dβ over the n vectors in order (each may be null), from the forward's mean and rstd. */
export function layerNormBackward(
  dy: Float32Array, x: Float32Array, gamma: Float32Array | null, mean: Float32Array, rstd: Float32Array,
  dx: Float32Array, dgamma: Float32Array | null, dbeta: Float32Array | null, n: number, D: number,
): void {
  const sg = dgamma ? new Float64Array(D) : null, sb = dbeta ? new Float64Array(D) : null;
  for (let v = 0; v < n; v++) {
    const o = v * D, m = mean[v]!, r = rstd[v]!;
    let a = 0, b = 0;
    for (let d = 0; d < D; d++) {
      const xh = (x[o + d]! - m) * r, g = dy[o + d]! * (gamma ? gamma[d]! : 1);
      a += g;
      b += g * xh;
      if (sg) sg[d]! += dy[o + d]! * xh;
      if (sb) sb[d]! += dy[o + d]!;
    }
    a /= D;
    b /= D;
    for (let d = 0; d < D; d++) {
      const xh = (x[o + d]! - m) * r, g = dy[o + d]! * (gamma ? gamma[d]! : 1);
      dx[o + d] = r * (g - a - xh * b);
    }
  }
  if (dgamma) dgamma.set(sg!);
  if (dbeta) dbeta.set(sb!);
}

const EPSILON = 1e-3; // Keras's default

/** x off-centre and of uneven spread, so the mean, the variance and ε all matter. */
function benchX(n: number, D: number, random: RandomFloats): Float32Array {
  return random(n * D, 2).map((v, i) => v * (1 + (Math.floor(i / D) % 3)) + 5 - (Math.floor(i / D) % 4));
}

const shape = {
  shape: 'M,G,D,affine',
  /** --shape M,K,N: G = K vectors of D = N values per example, with γ and β. */
  fromMKN: ([M, K, N]: readonly [number, number, number]) => [M, K, N, 3],
  /**
   * The webgpu suite takes the first three: γ and β, β only (a wide vector:
   * the workgroup variants), γ only; then no affine, D = 1, a multiple of 4,
   * one above a workgroup, and wide ones again.
   */
  cases: [[3, 5, 7, 3], [2, 3, 300, 2], [1, 1, 5, 1], [1, 4, 64, 0], [7, 1, 1, 3], [5, 2, 8, 3], [2, 2, 129, 3], [1, 2, 257, 1]] as const,
};

/**
 * Widest vector the narrow WGSL variants take (one invocation per vector,
 * no barriers: 3.4× faster on llvmpipe at 2048 vectors of 128); wider ones
 * get a 64-invocation workgroup per vector (the _wide kernels).
 */
export const LAYER_NORM_NARROW_MAX = 256;

/** The kernel variant and grid for n vectors of D values (`base` or `base`_wide). */
function variant(base: string, n: number, D: number): { kernel: string; grid: [number, number] } {
  return D <= LAYER_NORM_NARROW_MAX ? { kernel: base, grid: grid1d(n) } : { kernel: `${base}_wide`, grid: grid1d(n * 64) };
}

export const layerNormOp = defineOp<LayerNormOp>({
  kind: 'layer_norm',
  summary: 'y = (x − μ)·rstd·γ + β per vector of the last axis (layer normalization), saving μ and rstd',
  buffers: (op) => ({ reads: present(op.x, op.gamma, op.beta), writes: [op.y, op.mean, op.rstd] }),
  reference(op, e) {
    layerNormForward(e.buf(op.x), op.gamma ? e.buf(op.gamma) : null, op.beta ? e.buf(op.beta) : null, e.buf(op.y),
      e.buf(op.mean), e.buf(op.rstd), e.rows * op.groups, op.dim, op.epsilon);
  },
  wasm: {
    code: 15,
    fn: 'layerNorm',
    module: './layer_norm',
    fields: [['x', 'ptr'], ['gamma', 'ptr'], ['beta', 'ptr'], ['y', 'ptr'], ['mean', 'ptr'], ['rstd', 'ptr'], ['groups', 'i32'], ['dim', 'i32'], ['epsilon', 'f32']],
    params: [['x', 'usize'], ['gamma', 'usize'], ['beta', 'usize'], ['y', 'usize'], ['mean', 'usize'], ['rstd', 'usize'], ['n', 'i32'], ['D', 'i32'], ['epsilon', 'f32']],
    args: '{x}, {gamma}, {beta}, {y}, {mean}, {rstd}, rows * {groups}, {dim}, {epsilon}',
    encode: (op, L) => [L.ptr(op.x), L.ptr(op.gamma), L.ptr(op.beta), L.ptr(op.y), L.ptr(op.mean), L.ptr(op.rstd), op.groups, op.dim, f32Bits(op.epsilon)],
  },
  webgpu: {
    kernels: { layer_norm: ['read', 'read', 'read', 'rw', 'rw', 'rw'], layer_norm_wide: ['read', 'read', 'read', 'rw', 'rw', 'rw'] },
    async dispatches(op, env) {
      const io = [env.range(op.x), env.range(op.gamma), env.range(op.beta), env.range(op.y), env.range(op.mean), env.range(op.rstd)];
      const c = { G: op.groups, D: op.dim, EPSILON: op.epsilon, HAS_GAMMA: op.gamma !== null, HAS_BETA: op.beta !== null };
      if (env.custom) return [await env.custom(op.layer, c, io, env.B * op.groups, op.dim)];
      const { kernel, grid } = variant('layer_norm', env.B * op.groups, op.dim);
      return [await env.dispatch(kernel, op.layer, c, io, grid)];
    },
  },
  bench: {
    ...shape,
    dims: (op, B) => [B, op.groups, op.dim, (op.gamma ? 1 : 0) | (op.beta ? 2 : 0)],
    work: ([M, G, D]) => ({ flops: 8 * M! * G! * D!, bytes: 4 * (2 * M! * G! * D! + 2 * D! + 2 * M! * G!), unit: 'GB/s' }),
    instance([M, G, D, affine], random) {
      const n = M! * G!, scale = (affine! & 1) !== 0, center = (affine! & 2) !== 0;
      const inputs: Record<string, Float32Array> = { x: benchX(n, D!, random) };
      if (scale) inputs.gamma = random(D!, 1.5);
      if (center) inputs.beta = random(D!);
      return {
        op: { kind: 'layer_norm', layer: 'bench', x: 'x', gamma: scale ? 'gamma' : null, beta: center ? 'beta' : null, y: 'y', mean: 'mean', rstd: 'rstd', groups: G!, dim: D!, epsilon: EPSILON },
        rows: M!, inputs, outputs: { y: n * D!, mean: n, rstd: n }, step: 0, seed: 1, optimizer: NO_OPTIMIZER,
      };
    },
  },
  custom: {
    bindings: [
      { name: 'x', access: 'read' }, { name: 'gamma', access: 'read' }, { name: 'beta', access: 'read' },
      { name: 'y', access: 'rw' }, { name: 'mean', access: 'rw' }, { name: 'rstd', access: 'rw' },
    ],
    overrides: ['G', 'D', 'EPSILON', 'HAS_GAMMA', 'HAS_BETA'],
    output: ([M, G, D]) => [M! * G!, D!],
    outputNames: ['M·G', 'D'],
    computes: 'per vector v < ctx.rows·G of D values: mean[v] = μ, rstd[v] = 1/√(σ² + EPSILON) (biased σ²), y = (x − μ)·rstd·γ + β (γ only if HAS_GAMMA, β only if HAS_BETA)',
  },
  gradient: {
    wrt: (op) => present(op.x, op.gamma, op.beta),
    outputs: (op) => [op.y],
    backward: (op, grad) => ({
      ops: [{
        kind: 'layer_norm_backward', layer: op.layer, dy: grad(op.y), x: op.x, gamma: op.gamma, mean: op.mean, rstd: op.rstd,
        dx: grad(op.x), dgamma: op.gamma ? grad(op.gamma) : null, dbeta: op.beta ? grad(op.beta) : null, groups: op.groups, dim: op.dim,
      } as LayerNormBackwardOp],
    }),
  },
});

export const layerNormBackwardOp = defineOp<LayerNormBackwardOp>({
  kind: 'layer_norm_backward',
  summary: 'dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·γ, dγ = Σ dy·x̂, dβ = Σ dy (layer normalization backward)',
  buffers: (op) => ({ reads: present(op.dy, op.x, op.gamma, op.mean, op.rstd), writes: present(op.dx, op.dgamma, op.dbeta) }),
  reference(op, e) {
    layerNormBackward(e.buf(op.dy), e.buf(op.x), op.gamma ? e.buf(op.gamma) : null, e.buf(op.mean), e.buf(op.rstd), e.buf(op.dx),
      op.dgamma ? e.buf(op.dgamma) : null, op.dbeta ? e.buf(op.dbeta) : null, e.rows * op.groups, op.dim);
  },
  wasm: {
    code: 16,
    fn: 'layerNormBackward',
    module: './layer_norm',
    fields: [['dy', 'ptr'], ['x', 'ptr'], ['gamma', 'ptr'], ['mean', 'ptr'], ['rstd', 'ptr'], ['dx', 'ptr'], ['dgamma', 'ptr'], ['dbeta', 'ptr'], ['groups', 'i32'], ['dim', 'i32']],
    params: [['dy', 'usize'], ['x', 'usize'], ['gamma', 'usize'], ['mean', 'usize'], ['rstd', 'usize'], ['dx', 'usize'], ['dgamma', 'usize'], ['dbeta', 'usize'], ['n', 'i32'], ['D', 'i32']],
    args: '{dy}, {x}, {gamma}, {mean}, {rstd}, {dx}, {dgamma}, {dbeta}, rows * {groups}, {dim}',
    encode: (op, L) => [L.ptr(op.dy), L.ptr(op.x), L.ptr(op.gamma), L.ptr(op.mean), L.ptr(op.rstd), L.ptr(op.dx), L.ptr(op.dgamma), L.ptr(op.dbeta), op.groups, op.dim],
  },
  webgpu: {
    kernels: {
      layer_norm_backward: ['read', 'read', 'read', 'read', 'read', 'rw'],
      layer_norm_backward_wide: ['read', 'read', 'read', 'read', 'read', 'rw'],
      layer_norm_param_grad: ['read', 'read', 'read', 'read', 'rw', 'rw'],
    },
    async dispatches(op, env) {
      const out = [];
      const io = [env.range(op.dy), env.range(op.x), env.range(op.gamma), env.range(op.mean), env.range(op.rstd), env.range(op.dx)];
      const c = { G: op.groups, D: op.dim, HAS_GAMMA: op.gamma !== null };
      if (env.custom) out.push(await env.custom(op.layer, c, io, env.B * op.groups, op.dim));
      else {
        const { kernel, grid } = variant('layer_norm_backward', env.B * op.groups, op.dim);
        out.push(await env.dispatch(kernel, op.layer, c, io, grid));
      }
      if (op.dgamma || op.dbeta) {
        const pc = { G: op.groups, D: op.dim, HAS_GAMMA: op.dgamma !== null, HAS_BETA: op.dbeta !== null };
        const pio = [env.range(op.dy), env.range(op.x), env.range(op.mean), env.range(op.rstd),
          op.dgamma ? env.range(op.dgamma) : env.scratch(), op.dbeta ? env.range(op.dbeta) : env.scratch()];
        out.push(await env.dispatch('layer_norm_param_grad', op.layer, pc, pio, [Math.ceil(op.dim / 64), 1]));
      }
      return out;
    },
  },
  bench: {
    ...shape,
    dims: (op, B) => [B, op.groups, op.dim, (op.dgamma ? 1 : 0) | (op.dbeta ? 2 : 0)],
    work: ([M, G, D]) => ({ flops: 14 * M! * G! * D!, bytes: 4 * (3 * M! * G! * D! + 3 * D! + 2 * M! * G!), unit: 'GB/s' }),
    instance([M, G, D, affine], random) {
      const n = M! * G!, scale = (affine! & 1) !== 0, center = (affine! & 2) !== 0;
      const x = benchX(n, D!, random), gamma = scale ? random(D!, 1.5) : null;
      const mean = new Float32Array(n), rstd = new Float32Array(n);
      layerNormForward(x, gamma, null, new Float32Array(n * D!), mean, rstd, n, D!, EPSILON);
      const inputs: Record<string, Float32Array> = { dy: random(n * D!), x, mean, rstd, ...(gamma ? { gamma } : {}) };
      const outputs: Record<string, number> = { dx: n * D!, ...(scale ? { dgamma: D! } : {}), ...(center ? { dbeta: D! } : {}) };
      return {
        op: {
          kind: 'layer_norm_backward', layer: 'bench', dy: 'dy', x: 'x', gamma: gamma ? 'gamma' : null, mean: 'mean', rstd: 'rstd',
          dx: 'dx', dgamma: scale ? 'dgamma' : null, dbeta: center ? 'dbeta' : null, groups: G!, dim: D!,
        },
        rows: M!, inputs, outputs, step: 0, seed: 1, optimizer: NO_OPTIMIZER,
      };
    },
  },
  custom: {
    bindings: [
      { name: 'dy', access: 'read' }, { name: 'x', access: 'read' }, { name: 'gamma', access: 'read' },
      { name: 'mean', access: 'read' }, { name: 'rstd', access: 'read' }, { name: 'dx', access: 'rw' },
    ],
    overrides: ['G', 'D', 'HAS_GAMMA'],
    output: ([M, G, D]) => [M! * G!, D!],
    outputNames: ['M·G', 'D'],
    computes: 'dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) per vector v < ctx.rows·G of D values, x̂ = (x − mean[v])·rstd[v], g = dy·γ (γ only if HAS_GAMMA); dγ and dβ stay with the built-in layer_norm_param_grad kernel',
  },
});
