// The model's layer graph (Keras functional semantics): which layers feed
// which. Each layer takes the layers named in its `inputs`, or the previous
// layer by default (the model input for the first layer); `input` names the
// model input. The model's output is the last layer of the file.
//
// Resolved before shape inference, which walks layers in `order`: a
// topological order that keeps the file's order wherever the edges allow,
// so a plain stack walks exactly as written. Problems are config errors at
// the `inputs` entry that causes them: an unknown name (with a did-you-mean),
// a cycle, and a layer whose output nothing uses.

import type { ShapeIssue } from './shapes.js';
import { suggest } from './suggest.js';
import type { LayerSpec } from './types.js';

/** The model input, as an entry of `Topology.inputs`. */
export const MODEL_INPUT = -1;
/** The name `inputs:` uses for the model input. */
export const MODEL_INPUT_NAME = 'input';

export interface Topology {
  /** Every layer's name: its `name`, or `<type>_<n>` with a 1-based counter per type. */
  names: string[];
  /** Per layer, the indices of the layers it takes, in order (MODEL_INPUT for the model input). */
  inputs: number[][];
  /** Per layer, the layers that take its output, in file order; consumers[n] for n = layers.length is the model input's. */
  consumers: number[][];
  /** Layer indices, producers before consumers. Empty when the graph has a cycle or an unknown name. */
  order: number[];
}

/** Keras-like default names: dense_1, dense_2, conv2d_1, … counted per type in file order. */
export function layerNames(layers: readonly LayerSpec[]): string[] {
  const counters = new Map<string, number>();
  return layers.map((layer) => {
    const n = (counters.get(layer.type) ?? 0) + 1;
    counters.set(layer.type, n);
    return layer.name ?? `${layer.type}_${n}`;
  });
}

export function resolveTopology(layers: readonly LayerSpec[], errors: ShapeIssue[]): Topology {
  const names = layerNames(layers);
  const byName = new Map<string, number>();
  names.forEach((name, i) => { if (!byName.has(name)) byName.set(name, i); });
  let unresolved = false;

  const inputs = layers.map((layer, i) => {
    if (!layer.inputs) return [i - 1 < 0 ? MODEL_INPUT : i - 1];
    return layer.inputs.map((name, j) => {
      if (name === MODEL_INPUT_NAME) return MODEL_INPUT;
      const at = byName.get(name);
      if (at === i) {
        errors.push({ path: ['layers', i, 'inputs', j], message: `layer '${names[i]}' takes its own output`, hint: 'name an earlier layer, or input' });
        unresolved = true;
        return MODEL_INPUT;
      }
      if (at === undefined) {
        const near = suggest(name, [...names, MODEL_INPUT_NAME]);
        errors.push({
          path: ['layers', i, 'inputs', j],
          message: `unknown input '${name}' of layer '${names[i]}'${near ? `; did you mean '${near}'?` : ''}`,
          hint: `inputs name layers of this model (${names.join(', ')}) or ${MODEL_INPUT_NAME}`,
        });
        unresolved = true;
        return MODEL_INPUT;
      }
      return at;
    });
  });

  const consumers: number[][] = Array.from({ length: layers.length + 1 }, () => []);
  inputs.forEach((ins, i) => { for (const p of ins) consumers[p === MODEL_INPUT ? layers.length : p]!.push(i); });
  if (unresolved) return { names, inputs, consumers, order: [] };

  const order = topologicalOrder(inputs, names, errors);
  if (order.length) checkUnused(layers.length, names, consumers, errors);
  return { names, inputs, consumers, order };
}

/** Kahn's algorithm, always taking the lowest ready index: a stack stays in file order. Reports one cycle. */
function topologicalOrder(inputs: number[][], names: string[], errors: ShapeIssue[]): number[] {
  const waiting = inputs.map((ins) => new Set(ins.filter((p) => p !== MODEL_INPUT)).size);
  const done = new Array<boolean>(inputs.length).fill(false);
  const order: number[] = [];
  while (order.length < inputs.length) {
    const next = waiting.findIndex((w, i) => w === 0 && !done[i]);
    if (next < 0) break;
    done[next] = true;
    order.push(next);
    inputs.forEach((ins, i) => { if (!done[i] && ins.includes(next)) waiting[i]!--; });
  }
  if (order.length === inputs.length) return order;
  const cycle = findCycle(inputs, done);
  const first = Math.min(...cycle);
  errors.push({
    path: ['layers', first, 'inputs'],
    message: `the layers form a cycle: ${[...cycle, cycle[0]!].map((i) => names[i]).join(' → ')}`,
    hint: 'a layer may only take layers that do not depend on it',
  });
  return [];
}

/** One cycle among the layers not ordered, as layer indices in the direction data flows. */
function findCycle(inputs: number[][], done: boolean[]): number[] {
  // Walk producers backwards from an unordered layer until one repeats.
  let at = done.findIndex((d) => !d);
  const seen: number[] = [];
  while (!seen.includes(at)) {
    seen.push(at);
    at = inputs[at]!.find((p) => p !== MODEL_INPUT && !done[p])!;
  }
  const cycle = seen.slice(seen.indexOf(at)).reverse();
  // Start at the layer that comes first in the file, for a message that reads top-down.
  const first = cycle.indexOf(Math.min(...cycle));
  return [...cycle.slice(first), ...cycle.slice(0, first)];
}

/** Every layer but the output must feed another one: an unused branch is almost certainly a mistake. */
function checkUnused(count: number, names: string[], consumers: number[][], errors: ShapeIssue[]): void {
  for (let i = 0; i < count - 1; i++) {
    if (consumers[i]!.length) continue;
    errors.push({
      path: ['layers', i],
      message: `the output of layer '${names[i]}' is not used by any layer (the model's output is the last layer, '${names[count - 1]}')`,
      hint: `name '${names[i]}' in a later layer's inputs, or remove it`,
    });
  }
}
