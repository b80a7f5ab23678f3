// predict on any Backend: the backend's predictions (class probabilities,
// or the outputs of a regression model: graph.prediction) and the most
// probable class of each example. Browser-safe.

import type { Backend } from './backend.js';

export interface Prediction {
  /** [count × classes] class probabilities, row-major. */
  probabilities: Float32Array;
  /** The most probable class of each image (the first one on ties). */
  classes: Uint32Array;
  count: number;
  numClasses: number;
}

/** Class probabilities and predicted classes for `count` images of uint8 pixels (count × features bytes). */
export async function predict(backend: Backend, images: Uint8Array, count: number): Promise<Prediction> {
  const probabilities = await backend.predict(images, count);
  const numClasses = count > 0 ? probabilities.length / count : 0;
  const classes = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (probabilities[i * numClasses + c] > probabilities[i * numClasses + best]) best = c;
    classes[i] = best;
  }
  return { probabilities, classes, count, numClasses };
}
