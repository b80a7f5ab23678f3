// What predict returns per row, from the last layer's outputs: the loss
// says (graph.prediction). Softmax for the softmax cross-entropies, sigmoid
// for binary_crossentropy from logits, the outputs as they are otherwise.
// The js backend's implementation and the reference of the others. Browser-safe.

import { softmaxRows } from '../../ops/softmax_xent.js';
import type { PredictionKind } from './types.js';

export function predictRows(kind: PredictionKind, outputs: Float32Array, out: Float32Array, M: number, C: number): void {
  if (kind === 'softmax') return softmaxRows(outputs, out, M, C);
  for (let i = 0; i < M * C; i++) out[i] = kind === 'sigmoid' ? 1 / (1 + Math.exp(-outputs[i]!)) : outputs[i]!;
}
