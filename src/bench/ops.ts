// The ops `tessera bench` checks and times, all from the op registry
// (src/ops): an op's `bench` spec says what its dims are, how many FLOP and
// bytes it moves, and how to make a standalone instance of it on random
// non-zero inputs; the expected outputs are its `reference` run on copies
// of those inputs. Nothing here names an op, so an op added to the registry
// with a bench spec is benchable (and its custom kernels checkable) at once.

import { LABELS_BUFFER } from '../ops/gather.js';
import { benchableOps, isOpKind, opDef } from '../ops/index.js';
import type { BenchSpec, OpDef, OpInstance, OpRecordBase, RandomFloats, RefEnv, Work } from '../ops/types.js';
import type { Graph } from '../runtime/graph.js';
import { hashAt, rngKey } from '../runtime/rng.js';

/** One op at one shape. */
export interface OpCase extends Work {
  /** The op's kind. */
  op: string;
  /** The op's bench dims (its `bench.shape` says what they are, e.g. M,K,N or M,F). */
  dims: number[];
}

/** Kinds `tessera bench` can check and time, in registry order. */
export function benchOps(): string[] {
  return benchableOps().map((d) => d.kind);
}

export function isBenchOp(kind: string): boolean {
  return isOpKind(kind) && opDef(kind).bench !== null;
}

function benchSpec(kind: string): BenchSpec<OpRecordBase> {
  const spec = opDef(kind).bench;
  if (!spec) throw new Error(`op '${kind}' has no bench spec; benchable ops: ${benchOps().join(', ')}`);
  return spec;
}

export function shapeText(c: OpCase): string {
  return c.dims.join('×');
}

/** An op at its bench dims. */
export function makeCase(kind: string, dims: readonly number[]): OpCase {
  return { ...benchSpec(kind).work(dims), op: kind, dims: [...dims] };
}

/** The op's case for a `--shape M,K,N` triple (each op takes what it needs: its bench.fromMKN). */
export function caseFromMKN(kind: string, mkn: readonly [number, number, number]): OpCase {
  return makeCase(kind, benchSpec(kind).fromMKN(mkn));
}

/** Every benchable op of a graph's training step at exactly its shapes, without duplicates, in execution order. */
export function casesOfGraph(g: Graph): OpCase[] {
  const out: OpCase[] = [];
  const seen = new Set<string>();
  for (const op of [...g.forward, ...g.backward, ...g.update]) {
    const spec = opDef(op.kind).bench;
    if (!spec) continue;
    const c = makeCase(op.kind, spec.dims(op as never, g.batchSize));
    const key = `${c.op}:${c.dims.join(',')}`;
    if (!seen.has(key)) { seen.add(key); out.push(c); }
  }
  return out;
}

/** One case's data: the instance (inputs by buffer name) and what the reference computes from it. */
export interface OpData {
  instance: OpInstance<OpRecordBase>;
  /** The instance's inputs (the runners copy them; they are never written). */
  inputs: Record<string, Float32Array>;
  labels?: Uint32Array;
  /** The reference's outputs by buffer name (instance.outputs floats each). */
  expected: Record<string, Float32Array>;
  /** Scalars the reference reported (a loss: lossSum and correct); absent for ops that report none. */
  scalars?: Record<string, number>;
  /** The instance's tolerance, where it sets its own. */
  tolerance?: number;
}

/** Uniform in [−scale, scale] from the counter RNG, never exactly zero; one stream per call from `firstStream`. */
export function randomFloats(seed = 1234, firstStream = 5000): RandomFloats {
  let stream = firstStream;
  return (n, scale = 1) => {
    const key = rngKey(seed, stream++, 0);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const u = ((hashAt(key, i) >>> 8) + 0.5) / 16777216;
      out[i] = (2 * u - 1) * scale || 0.25 * scale;
    }
    return out;
  };
}

/**
 * Fresh buffers for an instance: a copy of every input, and zeros for every
 * output that is not also an input (an in-place output such as Adam's p
 * starts as its input). Each is as long as the larger of the two.
 */
export function instanceBuffers(inst: OpInstance<OpRecordBase>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [name, a] of Object.entries(inst.inputs)) {
    const b = new Float32Array(Math.max(a.length, inst.outputs[name] ?? 0));
    b.set(a);
    out[name] = b;
  }
  for (const [name, n] of Object.entries(inst.outputs)) out[name] ??= new Float32Array(n);
  return out;
}

/** The RefEnv an op's reference runs in over an instance's buffers (and dataset); metrics go to `onMetrics`. */
export function referenceEnv(
  inst: OpInstance<OpRecordBase>, buffers: Record<string, Float32Array>, onMetrics: (lossSum: number, correct: number) => void,
  labels: Uint32Array = inst.labels ?? new Uint32Array(inst.rows),
  onMetric: (accumulator: number, sum: number) => void = () => {},
): RefEnv {
  return {
    buf: (name) => {
      const b = buffers[name];
      if (!b) throw new Error(`the ${inst.op.kind} bench instance has no buffer '${name}'`);
      return b;
    },
    rows: inst.rows,
    step: inst.step,
    seed: inst.seed,
    labels,
    optimizer: inst.optimizer,
    addMetrics: (lossSum, correct) => onMetrics(lossSum, correct),
    addMetric: onMetric,
    ...(inst.dataset ? { data: inst.dataset } : {}),
  };
}

/** Metric accumulators a bench instance may use (its metric op adds to accumulator 0; a few spare catch a kernel writing the wrong one). */
export const BENCH_METRIC_ACCUMULATORS = 4;

/** A kernel's scalars, named as the reference's: lossSum and correct, and metric<k> for each the reference reported. */
export function scalarsOf(want: Record<string, number>, lossSum: number, correct: number, metric: (k: number) => number): Record<string, number> {
  const out: Record<string, number> = { lossSum, correct };
  for (const name of Object.keys(want)) if (name.startsWith('metric')) out[name] = metric(Number(name.slice(6)));
  return out;
}

/** Runs the reference once on `buffers`; the scalars when it reported any. */
export function runReference(def: OpDef, inst: OpInstance<OpRecordBase>, buffers: Record<string, Float32Array>): Record<string, number> | undefined {
  let scalars: Record<string, number> | undefined;
  const labels = inst.labels ?? new Uint32Array(inst.rows);
  def.reference(inst.op, referenceEnv(inst, buffers, (lossSum, correct) => {
    scalars = { ...scalars, lossSum: (scalars?.lossSum ?? 0) + lossSum, correct: (scalars?.correct ?? 0) + correct };
  }, labels, (k, sum) => {
    // A metric op's sum: the scalar metric<k> (benches give their instances accumulator 0).
    scalars = { ...scalars, [`metric${k}`]: (scalars?.[`metric${k}`] ?? 0) + sum };
  }));
  // An op that writes the batch labels (gather) has them as its output `labels`, as floats.
  if (inst.outputs[LABELS_BUFFER] !== undefined) buffers[LABELS_BUFFER]!.set(labels.subarray(0, inst.rows));
  return scalars;
}

/**
 * The output `labels` as read back from a kernel that writes them as u32
 * per row (wasm, webgpu): the first `rows` as numbers, anything past them
 * (padding the kernel must not touch) as the floats it holds.
 */
export function labelsAsFloats(raw: Float32Array, rows: number): Float32Array {
  const out = raw.slice(), bits = new Uint32Array(out.buffer.slice(0));
  for (let i = 0; i < Math.min(rows, out.length); i++) out[i] = bits[i]!;
  return out;
}

/** The outputs of an instance read from its buffers (instance.outputs floats each). */
export function outputsOf(inst: OpInstance<OpRecordBase>, read: (name: string, floats: number) => Float32Array): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(inst.outputs).map(([name, n]) => [name, read(name, n)]));
}

/** A case's instance on fresh random inputs (the same for the same case and seed) and the reference's outputs for it. */
export function makeData(c: OpCase, seed = 1234): OpData {
  const def = opDef(c.op);
  const instance = benchSpec(c.op).instance(c.dims, randomFloats(seed));
  const buffers = instanceBuffers(instance);
  const scalars = runReference(def, instance, buffers);
  return {
    instance,
    inputs: instance.inputs,
    ...(instance.labels ? { labels: instance.labels } : {}),
    expected: outputsOf(instance, (name, n) => buffers[name]!.slice(0, n)),
    ...(scalars ? { scalars } : {}),
    ...(instance.tolerance !== undefined ? { tolerance: instance.tolerance } : {}),
  };
}
