// Initial parameters from the graph's parameter list and the model seed:
// Glorot-uniform kernels and zero biases, as Keras initialises Dense layers;
// uniform ±0.05 for embeddings (Keras's default);
// ones where a weight asks for them (batch normalization's gamma and moving_variance).
import type { Graph } from './graph.js';
import { glorotUniform, randomUniform } from './rng.js';

export function initParams(graph: Graph): Float32Array[] {
  return graph.params.map((p) => {
    const values = new Float32Array(p.size);
    if (p.init === 'glorot_uniform') glorotUniform(values, p.fanIn, p.fanOut, graph.seed, p.index);
    else if (p.init === 'uniform') randomUniform(values, 0.05, graph.seed, p.index); // Keras's "uniform": U(−0.05, 0.05)
    else if (p.init === 'ones') values.fill(1);
    return values;
  });
}
