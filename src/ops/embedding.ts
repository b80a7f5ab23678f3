// embedding: a table lookup per position (the embedding layer).
//   embedding           y[(r·T + t)·D + d] = table[id(r, t)·D + d]
//   embedding_backward  dtable = scatter-add of the dy rows into the table
//                       rows they came from (overwritten: zeroed, then each
//                       table element sums its positions in (r, t) order)
// ids hold integer token ids as f32 (the data pipeline's buffers are f32);
// id(r, t) = ids[r·T + t] clamped to 0 … V − 1 and truncated (NaN reads as
// 0), so a bad id can never read or write outside the table. The gradient
// is wrt the table only: ids are data. Deterministic on every backend: the
// WebGPU backward gives each (vocabulary block, column) to one invocation,
// which walks the positions in order (no atomics), and the f32 sums are
// bit-identical to the reference's.

import { defineOp, grid1d, NO_OPTIMIZER, type OpRecordBase, type RandomFloats } from './types.js';

export interface EmbeddingOp extends OpRecordBase { kind: 'embedding'; ids: string; table: string; y: string; positions: number; dim: number; vocab: number }
export interface EmbeddingBackwardOp extends OpRecordBase { kind: 'embedding_backward'; ids: string; dy: string; dtable: string; positions: number; dim: number; vocab: number }

/** The table row of a token id held as a float: clamped to 0 … V − 1, truncated; NaN reads as 0. */
export function tokenRow(id: number, V: number): number {
  return id >= V - 1 ? V - 1 : id > 0 ? Math.trunc(id) : 0;
}

/** y[p, :] = table[row(ids[p]), :] for the n = rows·T positions. */
export function embeddingForward(ids: Float32Array, table: Float32Array, y: Float32Array, n: number, D: number, V: number): void {
  for (let p = 0; p < n; p++) {
    const src = tokenRow(ids[p]!, V) * D;
    for (let d = 0; d < D; d++) y[p * D + d] = table[src + d]!;
  }
}

/** dtable = 0, then dtable[row(ids[p]), :] += dy[p, :] for p ascending (f32 sums, as every kernel). */
export function embeddingBackward(ids: Float32Array, dy: Float32Array, dtable: Float32Array, n: number, D: number, V: number): void {
  dtable.fill(0, 0, V * D);
  for (let p = 0; p < n; p++) {
    const dst = tokenRow(ids[p]!, V) * D;
    for (let d = 0; d < D; d++) dtable[dst + d]! += dy[p * D + d]!;
  }
}

/**
 * Vocabulary rows one WebGPU backward invocation owns (per column). Every
 * invocation reads all the ids, so blocks cost reads: 64 rows gave 40 ms
 * against 80 ms for 16 on llvmpipe (2048 positions of 128, V = 67), while a
 * character vocabulary still spreads over more than one block per column.
 */
export function embeddingVocabBlock(V: number): number {
  return Math.max(64, Math.ceil(V / 65535));
}

/**
 * Token ids for a bench instance: mostly in range with repeats (so the
 * backward accumulates), plus a negative id, one past the end and a
 * fraction, which must clamp and truncate.
 */
function benchIds(n: number, V: number, random: RandomFloats): Float32Array {
  const u = random(n);
  const ids = Float32Array.from(u, (x) => Math.floor(((x + 1) / 2) * V * 0.999));
  if (n > 2) { ids[0] = -3; ids[1] = V + 2; ids[2] = Math.min(V - 1, 1) + 0.75; }
  if (n > 4) ids[4] = ids[3]!; // a repeat even at the smallest sizes
  return ids;
}

const shape = {
  shape: 'M,T,D,V',
  /** --shape M,K,N: T = K positions of width D = N, over a vocabulary of V = K + 3 (fewer rows than positions, so ids repeat). */
  fromMKN: ([M, K, N]: readonly [number, number, number]) => [M, K, N, K + 3],
  /**
   * The webgpu suite takes the first three: ids repeating, a vocabulary of
   * three backward blocks (the last partial), T = 1 and batch 1; then D a
   * multiple of 4 and a vocabulary larger than the positions, two rows.
   */
  cases: [[3, 5, 7, 4], [2, 9, 33, 130], [1, 1, 1, 1], [5, 3, 8, 129], [1, 17, 3, 2]] as const,
};

export const embeddingOp = defineOp<EmbeddingOp>({
  kind: 'embedding',
  summary: 'y = table[ids] per position (embedding lookup; ids clamped to the vocabulary)',
  buffers: (op) => ({ reads: [op.ids, op.table], writes: [op.y] }),
  reference: (op, e) => embeddingForward(e.buf(op.ids), e.buf(op.table), e.buf(op.y), e.rows * op.positions, op.dim, op.vocab),
  wasm: {
    code: 11,
    fn: 'embedding',
    module: './sequence',
    fields: [['ids', 'ptr'], ['table', 'ptr'], ['y', 'ptr'], ['positions', 'i32'], ['dim', 'i32'], ['vocab', 'i32']],
    params: [['ids', 'usize'], ['table', 'usize'], ['y', 'usize'], ['n', 'i32'], ['D', 'i32'], ['V', 'i32']],
    args: '{ids}, {table}, {y}, rows * {positions}, {dim}, {vocab}',
    encode: (op, L) => [L.ptr(op.ids), L.ptr(op.table), L.ptr(op.y), op.positions, op.dim, op.vocab],
  },
  webgpu: {
    kernels: { embedding: ['read', 'read', 'rw'] },
    async dispatches(op, env) {
      const io = [env.range(op.ids), env.range(op.table), env.range(op.y)];
      const c = { T: op.positions, D: op.dim, V: op.vocab };
      if (env.custom) return [await env.custom(op.layer, c, io, env.B * op.positions, op.dim)];
      return [await env.dispatch('embedding', op.layer, c, io, grid1d(env.B * op.positions * op.dim))];
    },
  },
  bench: {
    ...shape,
    dims: (op, B) => [B, op.positions, op.dim, op.vocab],
    work: ([M, T, D]) => ({ flops: 0, bytes: 4 * M! * T! * (1 + 2 * D!), unit: 'GB/s' }),
    instance: ([M, T, D, V], random) => ({
      op: { kind: 'embedding', layer: 'bench', ids: 'ids', table: 'table', y: 'y', positions: T!, dim: D!, vocab: V! },
      rows: M!, inputs: { ids: benchIds(M! * T!, V!, random), table: random(V! * D!) }, outputs: { y: M! * T! * D! },
      step: 0, seed: 1, optimizer: NO_OPTIMIZER,
    }),
  },
  custom: {
    bindings: [{ name: 'ids', access: 'read' }, { name: 'table', access: 'read' }, { name: 'y', access: 'rw' }],
    overrides: ['T', 'D', 'V'],
    output: ([M, T, D]) => [M! * T!, D!],
    outputNames: ['M·T', 'D'],
    computes: 'y[p·D + d] = table[row(ids[p])·D + d] for the ctx.rows·T positions p, row(id) = id clamped to 0 … V − 1, truncated',
  },
  gradient: {
    wrt: (op) => [op.table],
    backward: (op, grad) => ({
      ops: [{ kind: 'embedding_backward', layer: op.layer, ids: op.ids, dy: grad(op.y), dtable: grad(op.table), positions: op.positions, dim: op.dim, vocab: op.vocab } as EmbeddingBackwardOp],
    }),
  },
});

export const embeddingBackwardOp = defineOp<EmbeddingBackwardOp>({
  kind: 'embedding_backward',
  summary: 'dtable = scatter-add of dy rows into the rows of their ids, in position order (embedding backward)',
  buffers: (op) => ({ reads: [op.ids, op.dy], writes: [op.dtable] }),
  reference: (op, e) => embeddingBackward(e.buf(op.ids), e.buf(op.dy), e.buf(op.dtable), e.rows * op.positions, op.dim, op.vocab),
  wasm: {
    code: 12,
    fn: 'embeddingBackward',
    module: './sequence',
    fields: [['ids', 'ptr'], ['dy', 'ptr'], ['dtable', 'ptr'], ['positions', 'i32'], ['dim', 'i32'], ['vocab', 'i32']],
    params: [['ids', 'usize'], ['dy', 'usize'], ['dtable', 'usize'], ['n', 'i32'], ['D', 'i32'], ['V', 'i32']],
    args: '{ids}, {dy}, {dtable}, rows * {positions}, {dim}, {vocab}',
    encode: (op, L) => [L.ptr(op.ids), L.ptr(op.dy), L.ptr(op.dtable), op.positions, op.dim, op.vocab],
  },
  webgpu: {
    kernels: { embedding_backward: ['read', 'read', 'rw'] },
    async dispatches(op, env) {
      const io = [env.range(op.ids), env.range(op.dy), env.range(op.dtable)];
      const block = embeddingVocabBlock(op.vocab);
      const c = { T: op.positions, D: op.dim, V: op.vocab, V_BLOCK: block };
      if (env.custom) return [await env.custom(op.layer, c, io, op.vocab, op.dim)];
      // x: columns in 64s; y: vocabulary blocks.
      return [await env.dispatch('embedding_backward', op.layer, c, io, [Math.ceil(op.dim / 64), Math.ceil(op.vocab / block)])];
    },
  },
  bench: {
    ...shape,
    dims: (op, B) => [B, op.positions, op.dim, op.vocab],
    work: ([M, T, D, V]) => ({ flops: M! * T! * D!, bytes: 4 * (M! * T! * (1 + D!) + V! * D!), unit: 'GB/s' }),
    instance: ([M, T, D, V], random) => ({
      op: { kind: 'embedding_backward', layer: 'bench', ids: 'ids', dy: 'dy', dtable: 'dtable', positions: T!, dim: D!, vocab: V! },
      rows: M!, inputs: { ids: benchIds(M! * T!, V!, random), dy: random(M! * T! * D!) }, outputs: { dtable: V! * D! },
      step: 0, seed: 1, optimizer: NO_OPTIMIZER,
    }),
  },
  custom: {
    bindings: [{ name: 'ids', access: 'read' }, { name: 'dy', access: 'read' }, { name: 'dtable', access: 'rw' }],
    overrides: ['T', 'D', 'V', 'V_BLOCK'],
    output: ([, , D, V]) => [V!, D!],
    outputNames: ['V', 'D'],
    computes: 'dtable[v·D + d] = Σ dy[p·D + d] over the ctx.rows·T positions p with row(ids[p]) = v, p ascending (overwritten; no atomics); V_BLOCK is the built-in kernel\'s vocabulary block',
  },
});
