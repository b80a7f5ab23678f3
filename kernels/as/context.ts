// The context of the current exported call (trainSteps or runInference):
// the resident dataset, the seed, where metrics accumulate, the optimizer's
// hyperparameters. The generated dispatch (dispatch.generated.ts) passes
// them to the ops whose registered `args` name them.
export let gImages: usize = 0;
export let gLabels: usize = 0;
export let gOrder: usize = 0;
/** The resident dataset's float targets (0 when it has none), set by the host before each call. */
export let gTargets: usize = 0;
export let gSeed: u32 = 0;
export let gMetrics: usize = 0;
/** Non-zero in predict: the loss op writes probabilities here instead. */
export let gProbs: usize = 0;
export let gLr: f64 = 0;
export let gB1: f64 = 0;
export let gB2: f64 = 0;
export let gEps: f64 = 0;

export function setData(images: usize, labels: usize, order: usize): void {
  gImages = images; gLabels = labels; gOrder = order;
}

export function setOutputs(metrics: usize, probs: usize): void {
  gMetrics = metrics; gProbs = probs;
}

export function setTraining(seed: u32, lr: f64, beta1: f64, beta2: f64, epsilon: f64): void {
  gSeed = seed; gLr = lr; gB1 = beta1; gB2 = beta2; gEps = epsilon;
}

/** The float targets of the dataset the next call reads (regression losses); 0: none. */
export function setTargets(targets: usize): void {
  gTargets = targets;
}
