// The elementwise activations: one factory makes both ops of a function F,
//   F           y  = F(x)                 {x, y, features, alpha}
//   F_backward  dx = dy · F'(x)           {dy, x, y, dx, features, alpha}
// so that each function's file (src/ops/sigmoid.ts, …) only states its
// formulas, ids and codes. The backward op is given both x and y = F(x)
// and each function reads whichever is cheaper (sigmoid and tanh use y).
// `alpha` is the function's parameter (leaky_relu's negative_slope, elu's
// alpha) and ignored by the others, so every record has the same shape.
//
// Kernels: kernels/as/activation.ts (one export per op, SIMD, from the
// f32x4 exp/erf of kernels/as/math.ts) and kernels/wgsl/activation.wgsl /
// activation_backward.wgsl (one kernel each for every function, chosen by
// the override FN = the function's `id`, folded at pipeline creation).

import { defineOp, f32Bits, grid1d, NO_OPTIMIZER, type OpDef, type OpRecordBase, type RandomFloats, type WasmSpec } from './types.js';

export interface ActivationOp<K extends string = string> extends OpRecordBase {
  kind: K; x: string; y: string; features: number; alpha: number;
}
export interface ActivationBackwardOp<K extends string = string> extends OpRecordBase {
  kind: K; dy: string; x: string; y: string; dx: string; features: number; alpha: number;
}

/** What a function's file declares. */
export interface ActivationFn {
  /** FN of activation.wgsl / activation_backward.wgsl; unique among the elementwise functions. */
  id: number;
  /** wasm op code of the forward op; the backward op has code + 1. */
  code: number;
  /** AssemblyScript exports: forward (x, y, n[, alpha]) and backward (dy, x, y, dx, n[, alpha]). */
  wasmFns: readonly [forward: string, backward: string];
  /** The AssemblyScript module of the exports (default './activation'). */
  wasmModule?: string;
  /** Whether the function has a parameter: then `alpha` is an AS argument and the ALPHA override is set. */
  hasAlpha: boolean;
  /** F(x) in float64 (also runs on Float64Arrays for finite differences). */
  f(x: number, alpha: number): number;
  /** F'(x) in float64, given x and y = F(x). */
  df(x: number, y: number, alpha: number): number;
  /** The formulas, for summaries and custom-kernel contracts, e.g. '1/(1+exp(−x))'. */
  formula: string;
  derivative: string;
  /** Nominal FLOP per element of forward and backward, counting exp, erf and log1p as one. */
  flops: readonly [forward: number, backward: number];
  /** Bench and test inputs are uniform in [−scale, scale] (default 4: both tails and the bend). */
  inputScale?: number;
  /** The alpha of bench instances (the Keras default where there is a parameter). */
  benchAlpha?: number;
}

export function activationForward(fn: ActivationFn, X: Float32Array, Y: Float32Array, n: number, alpha: number): void {
  for (let i = 0; i < n; i++) Y[i] = fn.f(X[i]!, alpha);
}

export function activationBackward(fn: ActivationFn, dY: Float32Array, X: Float32Array, Y: Float32Array, dX: Float32Array, n: number, alpha: number): void {
  for (let i = 0; i < n; i++) dX[i] = dY[i]! * fn.df(X[i]!, Y[i]!, alpha);
}

const m_by_f = {
  shape: 'M,F',
  fromMKN: ([M, , N]: readonly [number, number, number]) => [M, N],
};

/** x uniform in [−scale, scale] \ {0} and y = F(x) as the forward op stores it (f32). */
function consistentInputs(fn: ActivationFn, n: number, random: RandomFloats, alpha: number): { x: Float32Array; y: Float32Array } {
  const x = random(n, fn.inputScale ?? 4);
  const y = new Float32Array(n);
  activationForward(fn, x, y, n, alpha);
  return { x, y };
}

/** The forward op of F alone (relu, whose backward is the existing relu_backward). */
export function activationOp<K extends string>(kind: K, fn: ActivationFn): OpDef<ActivationOp<K>> {
  const alphaField: WasmSpec<ActivationOp<K>>['fields'] = fn.hasAlpha ? [['alpha', 'f32']] : [];
  return defineOp<ActivationOp<K>>({
    kind,
    summary: `activation y = ${fn.formula}`,
    buffers: (op) => ({ reads: [op.x], writes: [op.y] }),
    reference: (op, e) => activationForward(fn, e.buf(op.x), e.buf(op.y), e.rows * op.features, op.alpha),
    wasm: {
      code: fn.code,
      fn: fn.wasmFns[0],
      module: fn.wasmModule ?? './activation',
      fields: [['x', 'ptr'], ['y', 'ptr'], ['features', 'i32'], ...alphaField],
      params: [['x', 'usize'], ['y', 'usize'], ['n', 'i32'], ...(fn.hasAlpha ? [['alpha', 'f32'] as const] : [])],
      args: `{x}, {y}, rows * {features}${fn.hasAlpha ? ', {alpha}' : ''}`,
      encode: (op, L) => [L.ptr(op.x), L.ptr(op.y), op.features, ...(fn.hasAlpha ? [f32Bits(op.alpha)] : [])],
    },
    webgpu: {
      kernels: { activation: ['read', 'rw'] },
      async dispatches(op, env) {
        const io = [env.range(op.x), env.range(op.y)];
        const c = { FEATURES: op.features, ...(fn.hasAlpha ? { ALPHA: op.alpha } : {}) };
        if (env.custom) return [await env.custom(op.layer, c, io, env.B, op.features)];
        return [await env.dispatch('activation', `${op.layer} ${kind}`, { ...c, FN: fn.id }, io, grid1d(env.B * op.features))];
      },
    },
    bench: {
      ...m_by_f,
      dims: (op, B) => [B, op.features],
      work: ([M, F]) => ({ flops: fn.flops[0] * M! * F!, bytes: 8 * M! * F!, unit: 'GB/s' }),
      instance: ([M, F], random) => ({
        op: { kind, layer: 'bench', x: 'x', y: 'y', features: F!, alpha: fn.benchAlpha ?? 0 },
        rows: M!, inputs: { x: random(M! * F!, fn.inputScale ?? 4) }, outputs: { y: M! * F! },
        step: 0, seed: 1, optimizer: NO_OPTIMIZER,
      }),
    },
    custom: {
      bindings: [{ name: 'x', access: 'read' }, { name: 'y', access: 'rw' }],
      overrides: fn.hasAlpha ? ['FEATURES', 'ALPHA'] : ['FEATURES'],
      output: ([M, F]) => [M!, F!],
      outputNames: ['M', 'F'],
      computes: `y[M×F] = ${fn.formula} elementwise; M = ctx.rows, F = FEATURES`,
    },
  });
}

/** Both ops of F: the forward (with its gradient spec) and F_backward. */
export function activationOps<K extends string>(kind: K, fn: ActivationFn): readonly [OpDef<ActivationOp<K>>, OpDef<ActivationBackwardOp<`${K}_backward`>>] {
  const bkind = `${kind}_backward` as const;
  const forward: OpDef<ActivationOp<K>> = {
    ...activationOp(kind, fn),
    gradient: {
      wrt: (op) => [op.x],
      backward: (op, grad) => ({
        ops: [{ kind: bkind, layer: op.layer, dy: grad(op.y), x: op.x, y: op.y, dx: grad(op.x), features: op.features, alpha: op.alpha } as ActivationBackwardOp],
      }),
    },
  };
  const backward = defineOp<ActivationBackwardOp<`${K}_backward`>>({
    kind: bkind,
    summary: `dx = dy · ${fn.derivative} (${kind} backward)`,
    buffers: (op) => ({ reads: [op.dy, op.x, op.y], writes: [op.dx] }),
    reference: (op, e) => activationBackward(fn, e.buf(op.dy), e.buf(op.x), e.buf(op.y), e.buf(op.dx), e.rows * op.features, op.alpha),
    wasm: {
      code: fn.code + 1,
      fn: fn.wasmFns[1],
      module: fn.wasmModule ?? './activation',
      fields: [['dy', 'ptr'], ['x', 'ptr'], ['y', 'ptr'], ['dx', 'ptr'], ['features', 'i32'], ...(fn.hasAlpha ? [['alpha', 'f32'] as const] : [])],
      params: [['dy', 'usize'], ['x', 'usize'], ['y', 'usize'], ['dx', 'usize'], ['n', 'i32'], ...(fn.hasAlpha ? [['alpha', 'f32'] as const] : [])],
      args: `{dy}, {x}, {y}, {dx}, rows * {features}${fn.hasAlpha ? ', {alpha}' : ''}`,
      encode: (op, L) => [L.ptr(op.dy), L.ptr(op.x), L.ptr(op.y), L.ptr(op.dx), op.features, ...(fn.hasAlpha ? [f32Bits(op.alpha)] : [])],
    },
    webgpu: {
      kernels: { activation_backward: ['read', 'read', 'read', 'rw'] },
      async dispatches(op, env) {
        const io = [env.range(op.dy), env.range(op.x), env.range(op.y), env.range(op.dx)];
        const c = { FEATURES: op.features, ...(fn.hasAlpha ? { ALPHA: op.alpha } : {}) };
        if (env.custom) return [await env.custom(op.layer, c, io, env.B, op.features)];
        return [await env.dispatch('activation_backward', `${op.layer} ${bkind}`, { ...c, FN: fn.id }, io, grid1d(env.B * op.features))];
      },
    },
    bench: {
      ...m_by_f,
      dims: (op, B) => [B, op.features],
      work: ([M, F]) => ({ flops: fn.flops[1] * M! * F!, bytes: 12 * M! * F!, unit: 'GB/s' }), // dy, one of x and y, dx
      instance([M, F], random) {
        const alpha = fn.benchAlpha ?? 0;
        const { x, y } = consistentInputs(fn, M! * F!, random, alpha);
        return {
          op: { kind: bkind, layer: 'bench', dy: 'dy', x: 'x', y: 'y', dx: 'dx', features: F!, alpha },
          rows: M!, inputs: { dy: random(M! * F!), x, y }, outputs: { dx: M! * F! },
          step: 0, seed: 1, optimizer: NO_OPTIMIZER,
        };
      },
    },
    custom: {
      bindings: [{ name: 'dy', access: 'read' }, { name: 'x', access: 'read' }, { name: 'y', access: 'read' }, { name: 'dx', access: 'rw' }],
      overrides: fn.hasAlpha ? ['FEATURES', 'ALPHA'] : ['FEATURES'],
      output: ([M, F]) => [M!, F!],
      outputNames: ['M', 'F'],
      computes: `dx[M×F] = dy · ${fn.derivative} elementwise, y = ${fn.formula}; M = ctx.rows, F = FEATURES`,
    },
  });
  return [forward, backward] as const;
}
