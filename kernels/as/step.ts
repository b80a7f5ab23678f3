// The plan interpreter: a Graph's op list, encoded by the host at prepare
// time into records of OP_WORDS i32 (op code, byte offsets of buffers,
// sizes), run for whole training steps, evaluations or predictions by one
// exported call each. Keep in sync with src/runtime/wasm/plan.ts.
import { rngKey } from './rng';
import { gather } from './gather';
import { denseForward, denseBackwardWeights, denseBackwardInput } from './dense';
import { dropout, reluBackward, transpose } from './elementwise';
import { softmaxXent, softmax } from './loss';
import { adam, adamStepSize } from './adam';

export const OP_WORDS = 16;
export const OP_GATHER = 1;          // x, features, labelsBuf
export const OP_DENSE_FORWARD = 2;   // x, w, b, y, k, n, relu, sparse
export const OP_DROPOUT = 3;         // x, y, features, stream, threshold, scale(f32 bits)
export const OP_SOFTMAX_XENT = 4;    // logits, dlogits, classes, labelsBuf
export const OP_DENSE_BW_WEIGHTS = 5; // x, dy, dw, db, k, n, sparse
export const OP_DENSE_BW_INPUT = 6;  // dy, wT, dx, reluOut, k, n
export const OP_RELU_BACKWARD = 7;   // dy, y, dx, features
export const OP_ADAM = 8;            // p, g, m, v, size
export const OP_TRANSPOSE = 9;       // w, wT, k, n
// The same three dense ops, run by a user's kernel (a separate wasm module
// sharing this memory, src/bench/custom-as.ts) through the imports below.
// The records are those of the built-in op codes 2, 5 and 6.
export const OP_CUSTOM_DENSE_FORWARD = 10;
export const OP_CUSTOM_DENSE_BW_WEIGHTS = 11;
export const OP_CUSTOM_DENSE_BW_INPUT = 12;

// Custom kernels (exactly the signatures of denseForward, denseBackwardWeights
// and denseBackwardInput). The host always provides all three: a user's
// exported function, or a stub that throws when no custom kernel is set (the
// plan then never uses the op codes above). wasm-to-wasm calls: no JS between.
// @ts-ignore: decorator
@external("env", "custom_dense_forward")
declare function customDenseForward(x: usize, w: usize, b: usize, y: usize, M: i32, K: i32, N: i32, relu: i32, sparse: i32): void;
// @ts-ignore: decorator
@external("env", "custom_dense_backward_weights")
declare function customDenseBackwardWeights(x: usize, dy: usize, dw: usize, db: usize, M: i32, K: i32, N: i32, sparse: i32): void;
// @ts-ignore: decorator
@external("env", "custom_dense_backward_input")
declare function customDenseBackwardInput(dy: usize, wt: usize, dx: usize, reluOut: usize, M: i32, K: i32, N: i32): void;

// The context of the current call.
let gImages: usize = 0, gLabels: usize = 0, gOrder: usize = 0;
let gSeed: u32 = 0, gMetrics: usize = 0, gProbs: usize = 0;
let gLr: f64 = 0, gB1: f64 = 0, gB2: f64 = 0, gEps: f64 = 0;

// @ts-ignore: decorator
@inline function w(op: usize, i: i32): i32 { return load<i32>(op + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function p(op: usize, i: i32): usize { return <usize>load<u32>(op + (<usize>i << 2)); }

function runOps(plan: usize, nOps: i32, start: i32, rows: i32, step: i32): void {
  for (let o = 0; o < nOps; o++) {
    const op = plan + <usize>(o * OP_WORDS * 4);
    switch (w(op, 0)) {
      case OP_GATHER:
        gather(gImages, gLabels, gOrder, start, rows, w(op, 2), p(op, 1), p(op, 3));
        break;
      case OP_DENSE_FORWARD:
        denseForward(p(op, 1), p(op, 2), p(op, 3), p(op, 4), rows, w(op, 5), w(op, 6), w(op, 7), w(op, 8));
        break;
      case OP_DROPOUT:
        dropout(p(op, 1), p(op, 2), rows * w(op, 3), rngKey(gSeed, <u32>w(op, 4), <u32>step), w(op, 5), reinterpret<f32>(w(op, 6)));
        break;
      case OP_SOFTMAX_XENT:
        if (gProbs) softmax(p(op, 1), gProbs + ((<usize>start * <usize>w(op, 3)) << 2), rows, w(op, 3));
        else softmaxXent(p(op, 1), p(op, 4), p(op, 2), rows, w(op, 3), <f64>rows, gMetrics);
        break;
      case OP_DENSE_BW_WEIGHTS:
        denseBackwardWeights(p(op, 1), p(op, 2), p(op, 3), p(op, 4), rows, w(op, 5), w(op, 6), w(op, 7));
        break;
      case OP_DENSE_BW_INPUT:
        denseBackwardInput(p(op, 1), p(op, 2), p(op, 3), p(op, 4), rows, w(op, 5), w(op, 6));
        break;
      case OP_RELU_BACKWARD:
        reluBackward(p(op, 1), p(op, 2), p(op, 3), rows * w(op, 4));
        break;
      case OP_ADAM:
        adam(p(op, 1), p(op, 2), p(op, 3), p(op, 4), w(op, 5), adamStepSize(gLr, gB1, gB2, <f64>(step + 1)), gB1, gB2, gEps);
        break;
      case OP_CUSTOM_DENSE_FORWARD:
        customDenseForward(p(op, 1), p(op, 2), p(op, 3), p(op, 4), rows, w(op, 5), w(op, 6), w(op, 7), w(op, 8));
        break;
      case OP_CUSTOM_DENSE_BW_WEIGHTS:
        customDenseBackwardWeights(p(op, 1), p(op, 2), p(op, 3), p(op, 4), rows, w(op, 5), w(op, 6), w(op, 7));
        break;
      case OP_CUSTOM_DENSE_BW_INPUT:
        customDenseBackwardInput(p(op, 1), p(op, 2), p(op, 3), p(op, 4), rows, w(op, 5), w(op, 6));
        break;
      case OP_TRANSPOSE:
        transpose(p(op, 1), p(op, 2), w(op, 3), w(op, 4));
        break;
      default:
        unreachable();
    }
  }
}

/**
 * Run `steps` training steps: step s gathers rows order[(firstBatch+s)·B …]
 * (the last batch may be partial) and uses global step globalStep + s.
 * Metrics (f64 lossSum, correct, samples) accumulate at `metrics`.
 * Returns the number of steps run (fewer when the data runs out).
 */
export function trainSteps(
  plan: usize, nOps: i32, images: usize, labels: usize, count: i32, order: usize, batch: i32,
  firstBatch: i32, steps: i32, globalStep: i32, seed: u32, metrics: usize,
  lr: f64, beta1: f64, beta2: f64, epsilon: f64,
): i32 {
  gImages = images; gLabels = labels; gOrder = order; gSeed = seed; gMetrics = metrics; gProbs = 0;
  gLr = lr; gB1 = beta1; gB2 = beta2; gEps = epsilon;
  for (let s = 0; s < steps; s++) {
    const start = (firstBatch + s) * batch;
    const rows = min(batch, count - start);
    if (rows <= 0) return s;
    runOps(plan, nOps, start, rows, globalStep + s);
  }
  return steps;
}

/**
 * The inference plan over all `count` examples in order, batch by batch.
 * probs == 0: loss and accuracy accumulate at `metrics`; otherwise the
 * softmax op writes class probabilities [count × classes] at `probs`.
 */
export function runInference(plan: usize, nOps: i32, images: usize, labels: usize, count: i32, batch: i32, metrics: usize, probs: usize): void {
  gImages = images; gLabels = labels; gOrder = 0; gMetrics = metrics; gProbs = probs;
  for (let start = 0; start < count; start += batch) runOps(plan, nOps, start, min(batch, count - start), 0);
  gProbs = 0;
}
