// Resumable checkpoints: one safetensors file (safetensors.ts) holding
//
//   <param name>              the weights, as a weights file has them (so
//                             `eval --weights` and `predict --weights` load a
//                             checkpoint too: the other tensors are skipped)
//   state/<buffer name>       every other whole-model graph buffer that is
//                             not recomputed by each step: the optimizer's
//                             state (Adam's m and v); moving statistics are
//                             weights (above)
//   callbacks/<i>/<j>         tensor j of callback i's state (early_stopping's
//                             best weights)
//
// and, in __metadata__ (strings):
//
//   format                    'tessera-checkpoint/1'
//   model                     the model's name
//   architecture, optimizer, training
//                             the run's identity (run-identity.ts) as JSON,
//   architecture_fingerprint, optimizer_fingerprint
//                             and a 16-hex-digit fingerprint of the first two
//   epoch, step, step_in_epoch, learning_rate
//                             the position, readable at a glance
//   rng                       the RNG's position: counter-based, so the seed,
//                             the global step (dropout) and the epoch (order)
//   train_state               the whole TrainState (train-state.ts) as JSON,
//                             ±Infinity and NaN written as {"$float": "..."}
//
// plus whatever the caller adds (status, backend). Browser-safe.

import type { ModelSpec } from '../config/types.js';
import { DataError } from '../data/errors.js';
import type { Graph } from './graph.js';
import { fingerprint, identityMismatches, runIdentity, stateBufferNames, type RunIdentity } from './run-identity.js';
import { checkWeightsAgainstGraph, decodeSafetensorsFile, encodeSafetensors, type NamedTensor, type SafetensorsFile } from './safetensors.js';
import type { TrainState } from './train-state.js';

export { stateBufferNames } from './run-identity.js';

export const CHECKPOINT_FORMAT = 'tessera-checkpoint/1';
const STATE = 'state/';
const CALLBACKS = 'callbacks/';

/** What a checkpoint is made of, as read from a backend. */
export interface CheckpointContents {
  params: Float32Array[];
  /** stateBufferNames(graph) order. */
  state: Float32Array[];
  train: TrainState;
}

/** JSON that keeps ±Infinity and NaN (a callback's best value starts at ±Infinity). */
export function floatJson(value: unknown): string {
  return JSON.stringify(value, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? { $float: String(v) } : v));
}

export function parseFloatJson(text: string): unknown {
  return JSON.parse(text, (_, v) => (v && typeof v === 'object' && typeof v.$float === 'string' && Object.keys(v).length === 1 ? Number(v.$float) : v));
}

export function encodeCheckpoint(spec: ModelSpec, graph: Graph, c: CheckpointContents, extra: Record<string, string> = {}): Uint8Array {
  const names = stateBufferNames(graph);
  if (c.params.length !== graph.params.length || c.state.length !== names.length) throw new Error(`encodeCheckpoint: ${c.params.length} parameters and ${c.state.length} state buffers for a graph of ${graph.params.length} and ${names.length}`);
  const tensors: NamedTensor[] = graph.params.map((p, i) => ({ name: p.name, shape: p.shape, data: c.params[i]! }));
  names.forEach((n, i) => tensors.push({ name: STATE + n, shape: [c.state[i]!.length], data: c.state[i]! }));
  c.train.callbacks.forEach((cb, i) => cb?.tensors?.forEach((t, j) => tensors.push({ name: `${CALLBACKS}${i}/${j}`, shape: [t.length], data: t })));
  const id = runIdentity(spec, graph, c.train.trainExamples);
  const t = c.train;
  const train = { ...t, callbacks: t.callbacks.map((cb) => (cb ? { type: cb.type, values: cb.values, tensors: cb.tensors?.length ?? 0 } : null)) };
  return encodeSafetensors(tensors, {
    ...extra,
    format: CHECKPOINT_FORMAT,
    model: graph.name,
    architecture: JSON.stringify(id.architecture),
    architecture_fingerprint: fingerprint(id.architecture),
    optimizer: JSON.stringify(id.optimizer),
    optimizer_fingerprint: fingerprint(id.optimizer),
    training: JSON.stringify(id.training),
    epoch: String(t.epoch),
    step: String(t.globalStep),
    step_in_epoch: String(t.stepInEpoch),
    learning_rate: String(t.learningRate),
    rng: JSON.stringify({ kind: 'counter (src/runtime/rng.ts)', seed: spec.seed, global_step: t.globalStep, epoch: t.epoch }),
    train_state: floatJson(train),
  });
}

/** Whether decoded safetensors are a Tessera checkpoint (not a weights-only file). */
export function isCheckpoint(file: SafetensorsFile): boolean {
  return file.metadata.format === CHECKPOINT_FORMAT;
}

/** The weight tensors of a weights file or a checkpoint (a checkpoint's state and callback tensors left out). */
export function weightTensors(file: SafetensorsFile): SafetensorsFile['tensors'] {
  if (!isCheckpoint(file)) return file.tensors;
  return new Map([...file.tensors].filter(([n]) => !n.startsWith(STATE) && !n.startsWith(CALLBACKS)));
}

/** A checkpoint checked against a run: the buffers to write and the position to continue from. */
export interface ResumePoint {
  params: Float32Array[];
  state: { name: string; data: Float32Array }[];
  train: TrainState;
  metadata: Record<string, string>;
  /** The model file's learning_rate is not the checkpoint's: the model file's applies from here on. */
  learningRateChanged: boolean;
}

/**
 * Decode `bytes` as a checkpoint for this run (spec, graph, training
 * examples). Refuses, as a DataError listing every difference, a checkpoint
 * of another model, optimizer or batch sequence; refuses a weights-only file.
 */
export function readCheckpoint(bytes: Uint8Array, source: string, spec: ModelSpec, graph: Graph, trainExamples: number): ResumePoint {
  const file = decodeSafetensorsFile(bytes, source);
  const fail = (what: string): never => { throw new DataError(source, `${source}: ${what}`); };
  if (!isCheckpoint(file)) {
    fail(`not a resumable checkpoint: it holds ${file.metadata.format ? `format '${file.metadata.format}'` : 'weights only (saved by --save or save_weights_only: true), no optimizer state or step'}; checkpoints come from Ctrl-C during tessera train or a model_checkpoint callback`);
  }
  const m = file.metadata;
  let saved: RunIdentity;
  let train: TrainState;
  try {
    saved = { architecture: JSON.parse(m.architecture!), optimizer: JSON.parse(m.optimizer!), training: JSON.parse(m.training!) };
    train = parseFloatJson(m.train_state!) as TrainState;
  } catch (e) {
    return fail(`corrupt checkpoint metadata (${(e as Error).message.split('\n')[0]})`);
  }
  const problems = identityMismatches(saved, runIdentity(spec, graph, trainExamples));
  if (m.model !== graph.name) problems.unshift(`model name: '${m.model}' in the checkpoint, '${graph.name}' in this run`);
  if (problems.length) {
    fail(`checkpoint of a different model, optimizer or data, not resumed (${problems.length} difference${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  const params = checkWeightsAgainstGraph(weightTensors(file), graph, source);
  const state = stateBufferNames(graph).map((name) => {
    const t = file.tensors.get(STATE + name);
    const want = graph.buffers.find((b) => b.name === name)!.floats;
    if (!t || t.data.length !== want) fail(`state tensor '${STATE + name}' is ${t ? `of ${t.data.length} values, the model needs ${want}` : 'missing'}`);
    return { name, data: t!.data };
  });
  // Callback tensors back into their states.
  const callbacks = (train.callbacks as unknown as ({ type: string; values: Record<string, never>; tensors: number } | null)[]).map((cb, i) => {
    if (!cb) return null;
    const tensors = Array.from({ length: cb.tensors }, (_, j) => file.tensors.get(`${CALLBACKS}${i}/${j}`)?.data ?? fail(`tensor '${CALLBACKS}${i}/${j}' (state of callback ${i}, ${cb.type}) is missing`));
    return { type: cb.type, values: cb.values, ...(tensors.length ? { tensors } : {}) };
  });
  const learningRateChanged = JSON.stringify(saved.optimizer.learning_rate) !== JSON.stringify(spec.optimizer.learning_rate);
  return { params, state, train: { ...train, callbacks }, metadata: m, learningRateChanged };
}
