// What makes a checkpoint resumable by a run: the same architecture (layers,
// loss, parameters and state buffers), the same optimizer (type and every
// setting but the learning rate) and the same sequence of batches (batch
// size, seed, shuffle, training examples). A checkpoint stores its run's
// identity as JSON in its metadata, with a short fingerprint of each part;
// on resume the two are compared key by key and every difference is listed
// (checkpoint.ts turns the list into the refusal). Browser-safe.

import type { ModelSpec } from '../config/types.js';
import type { Graph } from './graph.js';

export interface RunIdentity {
  architecture: {
    input_shape: number[];
    layers: unknown[];
    loss: unknown;
    /** name → shape, graph.params order. */
    params: Record<string, number[]>;
    /** Whole-model buffers that are neither parameters nor gradients (optimizer state, moving statistics): name → floats. */
    state: Record<string, number>;
  };
  /** The optimizer spec; `learning_rate` is stored but not compared (a new rate may be given on resume). */
  optimizer: Record<string, unknown>;
  training: { batch_size: number; seed: number; shuffle: boolean; train_examples: number };
}

/**
 * The buffers a checkpoint saves besides the parameters: every buffer of
 * the graph that is not per-row (activations are recomputed each step), not
 * a weight (params and batch normalization's moving statistics, kind
 * moving_stat, are saved as weights) and not recomputed by every step (a
 * gradient, a batch's statistics): the optimizer's state.
 */
// grad_norm: a gradient's sum of squares under clipnorm / global_clipnorm, recomputed by every step.
const NOT_STATE: ReadonlySet<string> = new Set(['param', 'moving_stat', 'grad', 'batch_stat', 'grad_norm']);

export function stateBufferNames(graph: Graph): string[] {
  return graph.buffers.filter((b) => !b.perRow && !NOT_STATE.has(b.kind)).map((b) => b.name);
}

export function runIdentity(spec: ModelSpec, graph: Graph, trainExamples: number): RunIdentity {
  const floats = new Map(graph.buffers.map((b) => [b.name, b.floats]));
  return {
    architecture: {
      input_shape: [...spec.input_shape],
      layers: structuredClone(spec.layers),
      loss: structuredClone(spec.loss),
      params: Object.fromEntries(graph.params.map((p) => [p.name, [...p.shape]])),
      state: Object.fromEntries(stateBufferNames(graph).map((n) => [n, floats.get(n)!])),
    },
    optimizer: structuredClone(spec.optimizer) as unknown as Record<string, unknown>,
    training: { batch_size: graph.batchSize, seed: spec.seed, shuffle: spec.training.shuffle, train_examples: trainExamples },
  };
}

/** 16 hex digits: two 32-bit FNV-1a hashes of the canonical JSON (a quick identity for people and tools, not a security measure). */
export function fingerprint(value: unknown): string {
  const text = canonicalJson(value);
  let a = 0x811c9dc5, b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193) >>> 0;
    b = (b ^ (b >>> 13)) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

/** JSON with object keys sorted, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) : v));
}

const show = (v: unknown) => (v === undefined ? 'absent' : typeof v === 'string' ? `'${v}'` : JSON.stringify(v));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every difference between two JSON values, as `path: checkpoint X, this run Y` lines (arrays of different lengths: the length, then the common entries). */
function differences(path: string, saved: unknown, now: unknown, out: string[]): void {
  if (isObject(saved) && isObject(now)) {
    // Entries of different types (a dense layer where a dropout was) differ as a whole: one line, not one per key.
    if (saved.type !== now.type) {
      out.push(`${path}: ${show(saved.type)} in the checkpoint, ${show(now.type)} in this run`);
      return;
    }
    const keys = [...new Set([...Object.keys(saved), ...Object.keys(now)])];
    for (const k of keys) differences(path ? `${path}.${k}` : k, saved[k], now[k], out);
    return;
  }
  if (Array.isArray(saved) && Array.isArray(now) && saved.some(isObject)) {
    if (saved.length !== now.length) out.push(`${path}: ${saved.length} in the checkpoint, ${now.length} in this run`);
    for (let i = 0; i < Math.min(saved.length, now.length); i++) differences(`${path}[${i}]`, saved[i], now[i], out);
    return;
  }
  if (canonicalJson(saved) !== canonicalJson(now)) out.push(`${path}: ${show(saved)} in the checkpoint, ${show(now)} in this run`);
}

/** Object keys present on one side only, or with different values, as lines (for name → shape maps). */
function mapDifferences(what: string, saved: Record<string, unknown>, now: Record<string, unknown>, out: string[]): void {
  const missing = Object.keys(now).filter((k) => !(k in saved));
  const extra = Object.keys(saved).filter((k) => !(k in now));
  if (missing.length) out.push(`${what} the checkpoint lacks: ${missing.join(', ')}`);
  if (extra.length) out.push(`${what} this run lacks: ${extra.join(', ')}`);
  for (const k of Object.keys(now)) if (k in saved && canonicalJson(saved[k]) !== canonicalJson(now[k])) out.push(`${k}: ${show(saved[k])} in the checkpoint, ${show(now[k])} in this run`);
}

/**
 * The differences that make a checkpoint another run's, one line each:
 * model (layers, loss), optimizer (all but learning_rate), then the batch
 * sequence; parameters and state buffers only when model and optimizer
 * agree, since they follow from them.
 */
export function identityMismatches(saved: RunIdentity, now: RunIdentity): string[] {
  const out: string[] = [];
  const a = saved.architecture, b = now.architecture;
  differences('input_shape', a.input_shape, b.input_shape, out);
  differences('layers', a.layers, b.layers, out);
  differences('loss', a.loss, b.loss, out);
  const { learning_rate: _a, ...optSaved } = saved.optimizer ?? {};
  const { learning_rate: _b, ...optNow } = now.optimizer;
  const optimizer: string[] = [];
  differences('optimizer', optSaved, optNow, optimizer);
  if (out.length === 0 && optimizer.length === 0) {
    mapDifferences('parameters', a.params ?? {}, b.params, out);
    mapDifferences('state buffers', a.state ?? {}, b.state, out);
  }
  out.push(...optimizer);
  const t = saved.training ?? {}, u = now.training;
  if (t.batch_size !== u.batch_size) out.push(`training.batch_size: ${show(t.batch_size)} in the checkpoint, ${u.batch_size} in this run`);
  if (t.seed !== u.seed) out.push(`seed: ${show(t.seed)} in the checkpoint, ${u.seed} in this run`);
  if (t.shuffle !== u.shuffle) out.push(`training.shuffle: ${show(t.shuffle)} in the checkpoint, ${u.shuffle} in this run`);
  if (t.train_examples !== u.train_examples) out.push(`training examples: ${show(t.train_examples)} in the checkpoint, ${u.train_examples} in this run (the same --limit and validation_split are needed)`);
  return out;
}
