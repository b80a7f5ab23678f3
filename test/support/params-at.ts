// A reference run for the interruption and failure suites: the parameters
// after exact step counts, driven through the Backend interface directly
// (not through fit, which the CLI uses), to compare a saved file with.

import type { ModelSpec } from '../../src/config/types.js';
import type { Backend, DatasetTensors } from '../../src/runtime/backend.js';
import type { Graph } from '../../src/runtime/graph.js';
import { initParams } from '../../src/runtime/params.js';
import { epochOrder } from '../../src/runtime/rng.js';

/**
 * Parameters after each of the given numbers of steps (ascending), from the
 * initial weights, driven through the Backend interface directly (not
 * through fit, which the CLI uses): epoch e's order is
 * epochOrder(count, seed, e, shuffle) and step g of the run is global step g.
 */
export async function paramsAt(backend: Backend, graph: Graph, train: DatasetTensors, spec: ModelSpec, marks: number[]): Promise<Float32Array[][]> {
  await backend.prepare(graph, initParams(graph));
  await backend.setDataset('train', train);
  const perEpoch = Math.ceil(train.count / graph.batchSize);
  const out: Float32Array[][] = [];
  let done = 0, epoch = -1;
  for (const mark of marks) {
    while (done < mark) {
      const e = Math.floor(done / perEpoch);
      if (e !== epoch) { await backend.setOrder(epochOrder(train.count, spec.seed, e, spec.training.shuffle)); epoch = e; }
      const n = Math.min(perEpoch - (done % perEpoch), mark - done);
      await backend.trainSteps(done % perEpoch, n, done);
      done += n;
    }
    out.push(await backend.readParams());
  }
  return out;
}
