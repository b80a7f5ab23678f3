// The plan interpreter: a Graph's op list, encoded by the host at prepare
// time into records of OP_WORDS i32 (op code, byte offsets of buffers,
// sizes; src/runtime/wasm/plan.ts), run for whole training steps,
// evaluations or predictions by one exported call each. What each op code
// calls is generated from the op registry (dispatch.generated.ts).
import { setData, setOutputs, setTraining } from './context';
import { dispatch } from './dispatch.generated';

export const OP_WORDS = 16;

function runOps(plan: usize, nOps: i32, start: i32, rows: i32, step: i32): void {
  for (let o = 0; o < nOps; o++) dispatch(plan + <usize>(o * OP_WORDS * 4), rows, start, step);
}

/**
 * Run `steps` training steps: step s gathers rows order[(firstBatch+s)·B …]
 * (the last batch may be partial) and uses global step globalStep + s and
 * learning rate rates[s] (f64, computed by the host: the schedule's rate).
 * Metrics (f64 lossSum, correct, samples) accumulate at `metrics`.
 * Returns the number of steps run (fewer when the data runs out).
 */
export function trainSteps(
  plan: usize, nOps: i32, images: usize, labels: usize, count: i32, order: usize, batch: i32,
  firstBatch: i32, steps: i32, globalStep: i32, seed: u32, metrics: usize,
  rates: usize, beta1: f64, beta2: f64, epsilon: f64,
): i32 {
  setData(images, labels, order);
  setOutputs(metrics, 0);
  for (let s = 0; s < steps; s++) {
    const start = (firstBatch + s) * batch;
    const rows = min(batch, count - start);
    if (rows <= 0) return s;
    setTraining(seed, load<f64>(rates + (<usize>s << 3)), beta1, beta2, epsilon);
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
  setData(images, labels, 0);
  setOutputs(metrics, probs);
  for (let start = 0; start < count; start += batch) runOps(plan, nOps, start, min(batch, count - start), 0);
  setOutputs(0, 0);
}

/**
 * Runs a plan of records once on `rows` rows at global step `step`, with
 * the given seed, learning rate and Adam settings: what `tessera bench`, the conformance
 * tests and custom-kernel checks use to run one op exactly as training does.
 */
export function runRecords(plan: usize, nOps: i32, rows: i32, step: i32, seed: u32, metrics: usize, lr: f64, beta1: f64, beta2: f64, epsilon: f64): void {
  runRecordsOn(plan, nOps, rows, step, seed, metrics, lr, beta1, beta2, epsilon, 0, 0, 0, 0);
}

/**
 * runRecords over a dataset: gather reads rows order[start …] of `images`
 * (uint8, example-major) and their `labels` (order 0: in sequence), as in
 * trainSteps. What `tessera bench` and the conformance tests run gather with.
 */
export function runRecordsOn(
  plan: usize, nOps: i32, rows: i32, step: i32, seed: u32, metrics: usize, lr: f64, beta1: f64, beta2: f64, epsilon: f64,
  images: usize, labels: usize, order: usize, start: i32,
): void {
  setData(images, labels, order);
  setOutputs(metrics, 0);
  setTraining(seed, lr, beta1, beta2, epsilon);
  runOps(plan, nOps, start, rows, step);
}
