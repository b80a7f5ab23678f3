// The TypeScript reference implementations, gathered from the op files of
// src/ops (where each op declares its own) under the names the tests, the
// benches and the library's users import. The oracle of every kernel test
// and the compute of the js backend.
//
// Conventions shared by all three implementations (the kernel contract):
// - Matrices are dense row-major f32. X is [M×K] (M = rows in the batch),
//   W is [K×N] (Keras kernel layout: inputs × units), Y is [M×N].
// - Kernels overwrite their outputs; nothing accumulates across calls except
//   the loss/correct accumulators of softmaxXent, which the caller resets.

export { denseForward } from '../../ops/dense_forward.js';
export { denseBackwardWeights } from '../../ops/dense_backward_weights.js';
export { denseBackwardInput } from '../../ops/dense_backward_input.js';
export { reluBackward } from '../../ops/relu_backward.js';
export { dropout, dropoutMask } from '../../ops/dropout.js';
export { softmaxXent, softmaxRows as softmax } from '../../ops/softmax_xent.js';
export { adam, adamStepSize, type AdamHyper } from '../../ops/adam.js';
export { gather, PIXEL_SCALE } from '../../ops/gather.js';

/** Y = max(X, 0) elementwise over n values (NaN and −0 give +0). */
export function relu(X: Float32Array, Y: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) Y[i] = X[i]! > 0 ? X[i]! : 0;
}
