// Encodes a Graph's op lists into the i32 records that the AssemblyScript
// step loop runs: word 0 is the op's registered code (plus
// CUSTOM_CODE_OFFSET when a user's kernel replaces it), words 1… are what
// the op's `wasm.encode` gives. The dispatch on the AssemblyScript side is
// generated from the same registry (scripts/gen-ops.ts).

import { defOf } from '../../ops/index.js';
import type { WasmLayout } from '../../ops/types.js';
import { CUSTOM_CODE_OFFSET, WASM_HELPERS } from '../../ops/wasm-helpers.js';
import type { Graph, Op } from '../graph.js';
import { fusePoolConvWeights } from './fuse.js';
import { scheduleThreads, type PlanRecord, type ThreadPlanContext } from './schedule.js';

export const OP_WORDS = 16;

/** Op kinds whose records call a user's kernel (given to the backend). */
export type CustomOps = ReadonlySet<string>;

export interface PlanLayout {
  /** Byte offset of a graph buffer. */
  ptr(name: string): number;
  /** Byte offset of the transposed copy of a kernel (only those read by dense_backward_input). */
  transposed(name: string): number;
  labels: number;
}

const TRANSPOSE = WASM_HELPERS.find((h) => h.name === 'transpose')!.code;

/**
 * The kernels whose records ask for a transposed copy (layout.transposed,
 * e.g. dense_backward_input's W), with their [k, n] shapes: found by
 * encoding the training plan once with a layout that notes the requests.
 */
export function transposedKernels(graph: Graph): Map<string, { k: number; n: number }> {
  const out = new Map<string, { k: number; n: number }>();
  const sizes = new Map(graph.params.map((p) => [p.name, p.size]));
  // The matrix view is the asking record's [k, n] (an attention kernel [F, heads, key_dim] is the matrix [F, heads·key_dim]).
  let asking: { k?: number; n?: number } = {};
  const noting: WasmLayout = {
    ptr: () => 0, labels: 0, sparse: () => false,
    transposed(name) {
      const { k, n } = asking;
      if (k === undefined || n === undefined || sizes.get(name) !== k * n) throw new Error(`wasm plan: a transposed copy of '${name}' was asked for, which is not a [k, n] matrix parameter of its record`);
      out.set(name, { k, n });
      return 0;
    },
  };
  for (const op of [...graph.forward, ...graph.backward, ...graph.update, ...graph.inference]) {
    asking = op as { k?: number; n?: number };
    defOf(op).wasm.encode(op, noting);
  }
  return out;
}

/**
 * The graph's input buffer (pixels, ~80% zeros on MNIST) is the one whose
 * zeros the matmuls skip. Hidden activations are not sparse enough for it to pay.
 */
function sparseInputs(graph: Graph): Set<string> {
  // Float features (CSV, .npz) are dense: testing each for zero would only cost.
  if (graph.inputDtype === 'float32') return new Set();
  return new Set(graph.buffers.filter((b) => b.kind === 'input').map((b) => b.name));
}

/** The WasmLayout of a graph's records (its input buffer marked sparse). */
export function layoutFor(graph: Graph, L: PlanLayout): WasmLayout {
  const sparse = sparseInputs(graph);
  return { ptr: (n) => (n === null ? 0 : L.ptr(n)), transposed: (n) => L.transposed(n), labels: L.labels, sparse: (n) => sparse.has(n) };
}

/** One op's record: its code (custom or built-in) and its encoded words. */
export function encodeRecord(op: Op, L: WasmLayout, custom: CustomOps = new Set()): number[] {
  const def = defOf(op);
  const code = def.wasm.code + (custom.has(op.kind) ? CUSTOM_CODE_OFFSET : 0);
  return [code, ...def.wasm.encode(op, L)];
}

/**
 * The training step (forward, backward, Adam, transposed-copy refresh) as
 * records, with the op each encodes; with fuse (one thread), pool-then-dW
 * pairs as one record (src/runtime/wasm/fuse.ts).
 */
export function trainRecords(graph: Graph, L: PlanLayout, custom: CustomOps = new Set(), fuse = false): PlanRecord[] {
  const layout = layoutFor(graph, L);
  let records: PlanRecord[] = [...graph.forward, ...graph.backward, ...graph.update].map((op) => ({ op: op as unknown as PlanRecord['op'], words: encodeRecord(op, layout, custom) }));
  if (fuse) records = fusePoolConvWeights(records);
  for (const [w, { k, n }] of transposedKernels(graph)) records.push({ op: { kind: 'transpose', w, k, n }, words: [TRANSPOSE, L.ptr(w), L.transposed(w), k, n] });
  return records;
}

/** Evaluation/prediction: gather, forward without dropout, softmax_xent (no dLogits). */
export function inferenceRecords(graph: Graph, L: PlanLayout, custom: CustomOps = new Set()): PlanRecord[] {
  const layout = layoutFor(graph, L);
  return graph.inference.map((op) => ({ op: op as unknown as PlanRecord['op'], words: encodeRecord(op, layout, custom) }));
}

/** The records packed for one thread, or split and synchronised for the threads of `threads` (src/runtime/wasm/schedule.ts). */
export function packPlan(records: PlanRecord[], threads: ThreadPlanContext | null): Int32Array {
  return packRecords(threads && threads.threads > 1 ? scheduleThreads(records, threads) : records.map((r) => r.words));
}

export function packRecords(records: number[][]): Int32Array {
  const out = new Int32Array(records.length * OP_WORDS);
  records.forEach((r, i) => {
    if (r.length > OP_WORDS) throw new Error('plan record too long');
    out.set(r.map((x) => x | 0), i * OP_WORDS);
  });
  return out;
}
