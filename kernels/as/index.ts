// Tessera's AssemblyScript kernels, compiled by asc (asconfig.json) into
// build/wasm/tessera.wasm (plain SIMD) and tessera-relaxed.wasm (relaxed
// SIMD: f32x4.relaxed_madd in the matmuls and Adam). All pointers are byte
// offsets into the exported memory; the host (src/runtime/backends/wasm.ts)
// owns the layout and grows the memory. No managed allocation happens here.

export { rngKey, hashAt } from './rng';
export { gemm, denseForward, denseBackwardWeights, denseBackwardInput, columnSums } from './dense';
export { conv2dForward } from './conv';
export { conv2dBackwardInput, conv2dBackwardWeights } from './conv_backward';
export { maxPoolConvWeights } from './pool_conv_weights';
export { relu, reluBackward, dropout, dropoutMask, transpose } from './elementwise';
export { softmaxXent, softmax } from './loss';
export { regressionLoss, copyOutputs } from './regression';
export { categoricalCrossentropy, binaryCrossentropy, binaryOutputs, topKCount } from './classification';
// Every activation kernel (a new function's exports need no edit here).
export * from './activation';
export { adam, adamStepSize } from './adam';
export { add, subtract, multiply, scale, concat, split } from './merge';
export { sgd, adamw, rmsprop } from './optimizers';
export { sequenceXent } from './sequence_loss';
export { attentionScores, attentionScoresBackward, attentionValues, attentionValuesBackward } from './attention';
export { gradPrep, gradNorm, gradClip, regPenalty } from './gradients';
export { gather, gatherTargets } from './gather';
export { gatherF32 } from './gather';
export { embedding, embeddingBackward, positionEmbedding, positionEmbeddingBackward } from './sequence';
export { layerNorm, layerNormBackward } from './layer_norm';
export { maxPool2d, maxPool2dBackward, averagePool2d, averagePool2dBackward, globalAveragePool2d, globalAveragePool2dBackward, globalMaxPool2d, globalMaxPool2dBackward } from './pool';
export { batchNormTrain, batchNormInference, batchNormBackward } from './batchnorm';
export { trainSteps, runInference, runRecords, runRecordsOn } from './step';
export { setTargets } from './context';

/** First free byte after the module's static data: the host allocates from here. */
export function heapBase(): usize {
  return __heap_base;
}

/** 1 in the relaxed-SIMD build. */
export function relaxedSimd(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

export { peakMadd, streamAdd } from './bench';
