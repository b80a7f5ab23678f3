// Initial parameters from the graph's parameter list and the model seed:
// Glorot-uniform kernels and zero biases, as Keras initialises Dense layers.
import type { Graph } from './graph.js';
import { glorotUniform } from './rng.js';

export function initParams(graph: Graph): Float32Array[] {
  return graph.params.map((p) => {
    const values = new Float32Array(p.size);
    if (p.init === 'glorot_uniform') glorotUniform(values, p.fanIn, p.fanOut, graph.seed, p.index);
    return values;
  });
}
