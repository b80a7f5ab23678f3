// The ops `tessera bench` knows: what a shape means for each, the work it
// does (flops, minimum bytes moved), random non-zero inputs, and the
// reference outputs from src/runtime/reference/kernels.ts (the oracle).
//
// Shapes (the `--shape M,K,N` flag gives all three; each op takes what it needs):
//   dense_forward           M,K,N   X[M×K]·W[K×N] + b, fused ReLU
//   dense_backward_weights  M,K,N   dW[K×N] = Xᵀ·dY, db = column sums of dY
//   dense_backward_input    M,K,N   dX[M×K] = dY[M×N]·Wᵀ, fused ReLU mask
//   relu_backward           M,F     M rows of F features (F = N of --shape)
//   dropout                 M,F     rate 0.2
//   softmax_xent            M,C     C classes (C = N of --shape)
//   adam                    n       n parameters (n = K·N of --shape)

import type { Graph } from '../runtime/graph.js';
import * as ref from '../runtime/reference/kernels.js';
import { hashAt, rngKey } from '../runtime/rng.js';

export const BENCH_OPS = ['dense_forward', 'dense_backward_weights', 'dense_backward_input', 'relu_backward', 'dropout', 'softmax_xent', 'adam'] as const;
export type BenchOp = (typeof BENCH_OPS)[number];

export function isBenchOp(s: string): s is BenchOp {
  return (BENCH_OPS as readonly string[]).includes(s);
}

export interface OpCase {
  op: BenchOp;
  /** M, K, N for dense ops; M, F for relu_backward/dropout; M, C for softmax_xent; n for adam. */
  dims: number[];
  /** Multiply-adds count 2 flops. */
  flops: number;
  /** Minimum traffic: every operand read once, every output written once. */
  bytes: number;
  /** What the rate column shows: compute-bound ops in GFLOP/s, the rest in GB/s. */
  unit: 'GFLOP/s' | 'GB/s';
}

export const DROPOUT_RATE = 0.2;
export const ADAM = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
export const ADAM_T = 7;
export const DROPOUT_KEY = rngKey(42, 16, 3);

export function shapeText(c: OpCase): string {
  return c.dims.join('×');
}

/** An op at a shape: `dims` as the op takes them (see the table at the top). */
export function makeCase(op: BenchOp, dims: number[]): OpCase {
  const f4 = 4;
  switch (op) {
    case 'dense_forward': {
      const [M, K, N] = dims as [number, number, number];
      return { op, dims, flops: 2 * M * K * N, bytes: f4 * (M * K + K * N + N + M * N), unit: 'GFLOP/s' };
    }
    case 'dense_backward_weights': {
      const [M, K, N] = dims as [number, number, number];
      return { op, dims, flops: 2 * M * K * N + M * N, bytes: f4 * (M * K + M * N + K * N + N), unit: 'GFLOP/s' };
    }
    case 'dense_backward_input': {
      const [M, K, N] = dims as [number, number, number];
      return { op, dims, flops: 2 * M * K * N, bytes: f4 * (M * N + K * N + 2 * M * K), unit: 'GFLOP/s' };
    }
    case 'relu_backward': {
      const n = dims[0]! * dims[1]!;
      return { op, dims, flops: n, bytes: f4 * 3 * n, unit: 'GB/s' };
    }
    case 'dropout': {
      const n = dims[0]! * dims[1]!;
      return { op, dims, flops: n, bytes: f4 * 2 * n, unit: 'GB/s' };
    }
    case 'softmax_xent': {
      const n = dims[0]! * dims[1]!;
      return { op, dims, flops: 5 * n, bytes: f4 * (2 * n + dims[0]!), unit: 'GB/s' };
    }
    case 'adam': {
      const n = dims[0]!;
      return { op, dims, flops: 12 * n, bytes: f4 * 7 * n, unit: 'GB/s' };
    }
  }
}

/** The op's case for a `--shape M,K,N` triple. */
export function caseFromMKN(op: BenchOp, [M, K, N]: [number, number, number]): OpCase {
  switch (op) {
    case 'dense_forward':
    case 'dense_backward_weights':
    case 'dense_backward_input':
      return makeCase(op, [M, K, N]);
    case 'relu_backward':
    case 'dropout':
    case 'softmax_xent':
      return makeCase(op, [M, N]);
    case 'adam':
      return makeCase(op, [K * N]);
  }
}

/** Every op of a graph's training step at exactly its shapes, without duplicates, in execution order. */
export function casesOfGraph(g: Graph): OpCase[] {
  const B = g.batchSize;
  const out: OpCase[] = [];
  const seen = new Set<string>();
  const add = (c: OpCase) => {
    const key = `${c.op}:${c.dims.join(',')}`;
    if (!seen.has(key)) { seen.add(key); out.push(c); }
  };
  for (const op of [...g.forward, ...g.backward, ...g.update]) {
    switch (op.kind) {
      case 'dense_forward': case 'dense_backward_weights': case 'dense_backward_input':
        add(makeCase(op.kind, [B, op.k, op.n])); break;
      case 'relu_backward': add(makeCase('relu_backward', [B, op.features])); break;
      case 'dropout': case 'dropout_backward': add(makeCase('dropout', [B, op.features])); break;
      case 'softmax_xent': add(makeCase('softmax_xent', [B, op.classes])); break;
      case 'adam': add(makeCase('adam', [op.size])); break;
      case 'gather': break;
    }
  }
  return out;
}

/** Inputs of one op by name (the names the runners bind) and the reference outputs. */
export interface OpData {
  inputs: Record<string, Float32Array>;
  /** Integer inputs (labels). */
  labels?: Uint32Array;
  /** Expected outputs by name. */
  expected: Record<string, Float32Array>;
  /** Expected scalar outputs (softmax_xent: lossSum, correct). */
  scalars?: Record<string, number>;
}

let streamCounter = 0;
/** Uniform in [-scale, scale] from the counter RNG, never exactly zero. */
export function randomF32(n: number, scale = 1, seed = 1234): Float32Array {
  const key = rngKey(seed, 5000 + streamCounter++, 0);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = ((hashAt(key, i) >>> 8) + 0.5) / 16777216;
    out[i] = (2 * u - 1) * scale || 0.25 * scale;
  }
  return out;
}

/** Fresh random inputs for a case and the reference's outputs for them. */
export function makeData(c: OpCase): OpData {
  const d = c.dims;
  switch (c.op) {
    case 'dense_forward': {
      const [M, K, N] = d as [number, number, number];
      const x = randomF32(M * K), w = randomF32(K * N, 0.2), b = randomF32(N, 0.5);
      const y = new Float32Array(M * N);
      ref.denseForward(x, w, b, y, M, K, N, true);
      return { inputs: { x, w, b }, expected: { y } };
    }
    case 'dense_backward_weights': {
      const [M, K, N] = d as [number, number, number];
      const x = randomF32(M * K), dy = randomF32(M * N);
      const dw = new Float32Array(K * N), db = new Float32Array(N);
      ref.denseBackwardWeights(x, dy, dw, db, M, K, N);
      return { inputs: { x, dy }, expected: { dw, db } };
    }
    case 'dense_backward_input': {
      const [M, K, N] = d as [number, number, number];
      const dy = randomF32(M * N), w = randomF32(K * N, 0.2);
      const reluOut = randomF32(M * K).map((v) => (v < 0 ? 0 : v));
      const dx = new Float32Array(M * K);
      ref.denseBackwardInput(dy, w, dx, reluOut, M, K, N);
      return { inputs: { dy, w, reluOut }, expected: { dx } };
    }
    case 'relu_backward': {
      const n = d[0]! * d[1]!;
      const dy = randomF32(n), y = randomF32(n).map((v) => (v < 0 ? 0 : v));
      const dx = new Float32Array(n);
      ref.reluBackward(dy, y, dx, n);
      return { inputs: { dy, y }, expected: { dx } };
    }
    case 'dropout': {
      const n = d[0]! * d[1]!;
      const x = randomF32(n, 3);
      const y = new Float32Array(n);
      ref.dropout(x, y, n, DROPOUT_KEY, DROPOUT_RATE);
      return { inputs: { x }, expected: { y } };
    }
    case 'softmax_xent': {
      const [M, C] = d as [number, number];
      const logits = randomF32(M * C, 4);
      const labels = Uint32Array.from({ length: M }, (_, i) => (i * 7 + 3) % C);
      for (let i = 0; i < M; i += 2) logits[i * C + labels[i]!] = 9; // some rows right, so the count is exercised
      const dlogits = new Float32Array(M * C);
      const { lossSum, correct } = ref.softmaxXent(logits, labels, dlogits, M, C, M);
      return { inputs: { logits }, labels, expected: { dlogits }, scalars: { lossSum, correct } };
    }
    case 'adam': {
      const n = d[0]!;
      const p = randomF32(n), g = randomF32(n, 0.1), m = randomF32(n, 0.01), v = randomF32(n, 0.001).map(Math.abs);
      const [P, Mo, V] = [p.slice(), m.slice(), v.slice()];
      ref.adam(P, g, Mo, V, n, ref.adamStepSize(ADAM, ADAM_T), ADAM.beta1, ADAM.beta2, ADAM.epsilon);
      return { inputs: { p, g, m, v }, expected: { p: P, m: Mo, v: V } };
    }
  }
}
