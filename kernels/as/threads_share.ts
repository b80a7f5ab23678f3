// One thread's share of a split op (the threads build; kernels/as/threads.ts
// walks the plan). The host decides how each record splits and where the
// barriers go (src/runtime/wasm/schedule.ts) and writes it into the record's
// sync word (word SYNC_WORD): the split mode in bits 0-3, "barrier before
// this record" in bit 4, "word 14 is a row table" in bit 5, and the share
// alignment in bits 8-31. Every mode
// gives each output element to exactly one thread, computed with the same
// terms in the same order as on one thread, so the numbers are bit-identical
// at any thread count:
//   COLS          matmul output columns share(N, al) (dense forward / dX);
//                 the batch sums by columns: layer norm's dγ/dβ (its dX by
//                 rows), the embedding table's rows, the position
//                 embedding's floats, batch normalization's channels
//   ROWS          dW rows share(K, al) with db columns share(N, 4) (dense),
//                 filter taps (conv dW), rows of a transposed kernel
//   RANGE         Adam over share(n, al) of its floats
//   RECORD_ROWS   examples share(rows, al): the record's per-row pointers
//                 moved to the share's first example by the host's row
//                 table (or this file's strides, for conv forward), or
//                 this file's own cases (gather, dropout, losses, metrics)
//   PARAM_RANGE   the other optimizers, grad_prep, grad_clip over share(n, al)
//   CONV_AUTO     conv dW: this file picks taps, columns or one thread
// A loss split by rows writes each row's loss (and correct flag) into the
// record's row scratch (word SCRATCH_WORD) instead of the metrics; the
// ROW_REDUCE record that the host places after a later barrier sums them on
// thread 0 in row order, as one thread does.
import { dispatch, OP_DENSE_FORWARD, OP_DENSE_BACKWARD_WEIGHTS, OP_DENSE_BACKWARD_INPUT, OP_ADAM, OP_TRANSPOSE,
  OP_CONV2D_FORWARD, OP_CONV2D_BACKWARD_INPUT, OP_CONV2D_BACKWARD_WEIGHTS, OP_RELU, OP_RELU_BACKWARD,
  OP_SIGMOID, OP_SIGMOID_BACKWARD, OP_TANH, OP_TANH_BACKWARD, OP_LEAKY_RELU, OP_LEAKY_RELU_BACKWARD, OP_ELU, OP_ELU_BACKWARD,
  OP_GELU, OP_GELU_BACKWARD, OP_GELU_TANH, OP_GELU_TANH_BACKWARD, OP_SILU, OP_SILU_BACKWARD, OP_SOFTPLUS, OP_SOFTPLUS_BACKWARD,
  OP_SOFTMAX, OP_SOFTMAX_BACKWARD, OP_DROPOUT, OP_DROPOUT_BACKWARD, OP_SGD, OP_ADAMW, OP_RMSPROP, OP_MAX_POOL2D, OP_MAX_POOL2D_BACKWARD,
  OP_AVERAGE_POOL2D, OP_AVERAGE_POOL2D_BACKWARD, OP_GATHER, OP_GATHER_F32, OP_GATHER_TARGETS, OP_SOFTMAX_XENT,
  OP_ADD, OP_SUBTRACT, OP_MULTIPLY, OP_SCALE, OP_CATEGORICAL_CROSSENTROPY, OP_BINARY_CROSSENTROPY, OP_MEAN_SQUARED_ERROR,
  OP_MEAN_ABSOLUTE_ERROR, OP_HUBER, OP_TOP_K_CATEGORICAL_ACCURACY, OP_SEQUENCE_XENT, OP_LAYER_NORM_BACKWARD, OP_EMBEDDING_BACKWARD,
  OP_POSITION_EMBEDDING_BACKWARD, OP_BATCH_NORM_TRAIN, OP_BATCH_NORM_INFERENCE, OP_BATCH_NORM_BACKWARD, OP_GRAD_PREP, OP_GRAD_CLIP } from './dispatch.generated';
import { gemm, columnSumsStrided, EPI_NONE, EPI_RELU, EPI_MASK } from './dense';
import { adam, adamStepSize } from './adam';
import { transposeRows, dropoutFrom } from './elementwise';
import { gather, gatherF32, gatherTargets } from './gather';
import { softmaxXent, softmax } from './loss';
import { categoricalCrossentropyTerms, binaryCrossentropy, binaryOutputs, topKCount } from './classification';
import { regressionLoss, copyOutputs } from './regression';
import { sequenceXentRows } from './sequence_loss';
import { layerNormBackward, layerNormParamGrads } from './layer_norm';
import { embeddingBackwardRows, positionEmbeddingBackwardColumns } from './sequence';
import { batchNormTrainChannels, batchNormInferenceChannels, batchNormBackwardChannels } from './batchnorm';
import { rngKey } from './rng';
import { COL } from './conv';
import { conv2dBackwardWeightsColumns, convWeightsSplittable } from './conv_backward';
import { smallConv, conv2dBackwardWeightsSmall } from './conv_small';
import { gImages, gLabels, gOrder, gTargets, gMetrics, gProbs, gLr, gB1, gB2, gEps, gSeed } from './context';

export const OP_WORDS = 16;
export const SYNC_WORD = 15;
export const SCRATCH_WORD = 14;
export const SYNC_BARRIER = 16;
/** Sync word bit: record word 14 points at the host's row table (records of up to 14 words). */
const SYNC_TABLE = 32;
/** The host's thread-plan record that sums a row-split loss's row scratch into the metrics (not a graph op). */
export const OP_ROW_REDUCE = 127;

export const SINGLE = 0, COLS = 1, ROWS = 2, RANGE = 3, RECORD_ROWS = 4, PARAM_RANGE = 5, CONV_AUTO = 6;

export let gTid: i32 = 0;
export let gThreads: i32 = 1;
let gRec: usize = 0; // this thread's copy of a record
let gTemp: usize = 0; // this thread's metrics for one row of a loss (256 bytes)
let gLo: i32 = 0;
let gHi: i32 = 0;

const RECORD_BYTES: i32 = OP_WORDS * 4;
/** Per-thread scratch of this file: a record and one row's metrics. */
export const SHARE_SCRATCH: i32 = RECORD_BYTES + 256;

export function setShareThread(tid: i32, threads: i32, scratch: usize): void {
  gTid = tid; gThreads = threads; gRec = scratch; gTemp = scratch + <usize>RECORD_BYTES;
}

// @ts-ignore: decorator
@inline function w(op: usize, i: i32): i32 { return load<i32>(op + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function p(op: usize, i: i32): usize { return <usize>load<u32>(op + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function hw(v: i32): i32 { return (v >>> 16) * (v & 0xffff); }

/** This thread's share [gLo, gHi) of `total` in units of `align` (the last share ends at total). */
function share(total: i32, align: i32): void {
  const units = (total + align - 1) / align;
  gLo = min(total, <i32>(<i64>units * gTid / gThreads) * align);
  gHi = min(total, <i32>(<i64>units * (gTid + 1) / gThreads) * align);
}

// Floats per row of the record's pointer words 1 … 4 for a row share (0: not per row).
let gS1 = 0, gS2 = 0, gS3 = 0, gS4 = 0;

/** Per-row strides of a record whose examples are independent; false for a kind that cannot split so. */
function rowStrides(op: usize): bool {
  gS1 = 0; gS2 = 0; gS3 = 0; gS4 = 0;
  switch (w(op, 0)) {
    case OP_RELU: case OP_SIGMOID: case OP_TANH: case OP_LEAKY_RELU: case OP_ELU: case OP_GELU:
    case OP_GELU_TANH: case OP_SILU: case OP_SOFTPLUS: case OP_SOFTMAX: case OP_SCALE: // x, y, features
      gS1 = w(op, 3); gS2 = gS1;
      return true;
    case OP_RELU_BACKWARD: case OP_SOFTMAX_BACKWARD: case OP_ADD: case OP_SUBTRACT: case OP_MULTIPLY: // three per-row buffers, features
      gS1 = w(op, 4); gS2 = gS1; gS3 = gS1;
      return true;
    case OP_SIGMOID_BACKWARD: case OP_TANH_BACKWARD: case OP_LEAKY_RELU_BACKWARD: case OP_ELU_BACKWARD:
    case OP_GELU_BACKWARD: case OP_GELU_TANH_BACKWARD: case OP_SILU_BACKWARD: case OP_SOFTPLUS_BACKWARD:
      gS1 = w(op, 5); gS2 = gS1; gS3 = gS1; gS4 = gS1;
      return true;
    case OP_DENSE_FORWARD: // x, w, b, y, k, n, relu, sparse, seq
      gS1 = w(op, 5) * w(op, 9); gS4 = w(op, 6) * w(op, 9);
      return true;
    case OP_DENSE_BACKWARD_INPUT: // dy, wt, dx, reluOut, k, n, seq
      gS1 = w(op, 6) * w(op, 7); gS3 = w(op, 5) * w(op, 7); gS4 = gS3;
      return true;
    case OP_CONV2D_FORWARD: // x, w, b, y
      gS1 = hw(w(op, 5)) * w(op, 11); gS4 = hw(w(op, 6)) * w(op, 12);
      return true;
    case OP_CONV2D_BACKWARD_INPUT: // dy, w, dx, reluOut
      gS1 = hw(w(op, 6)) * w(op, 12); gS3 = hw(w(op, 5)) * w(op, 11); gS4 = gS3;
      return true;
    case OP_MAX_POOL2D: case OP_AVERAGE_POOL2D: // x, y, inHW, outHW, …, channels
      gS1 = hw(w(op, 3)) * w(op, 8); gS2 = hw(w(op, 4)) * w(op, 8);
      return true;
    case OP_MAX_POOL2D_BACKWARD: // dy, x, dx, inHW, outHW, …, channels
      gS1 = hw(w(op, 5)) * w(op, 9); gS2 = hw(w(op, 4)) * w(op, 9); gS3 = gS2;
      return true;
    case OP_AVERAGE_POOL2D_BACKWARD: // dy, dx, inHW, outHW, …, channels
      gS1 = hw(w(op, 4)) * w(op, 8); gS2 = hw(w(op, 3)) * w(op, 8);
      return true;
  }
  return false;
}

/** The record moved to example `lo` (its per-row pointers), in this thread's copy. */
function recordAt(op: usize, lo: i32): usize {
  memory.copy(gRec, op, <usize>RECORD_BYTES);
  const r = <usize>lo;
  if (gS1 && p(op, 1)) store<u32>(gRec + 4, <u32>(p(op, 1) + ((r * <usize>gS1) << 2)));
  if (gS2 && p(op, 2)) store<u32>(gRec + 8, <u32>(p(op, 2) + ((r * <usize>gS2) << 2)));
  if (gS3 && p(op, 3)) store<u32>(gRec + 12, <u32>(p(op, 3) + ((r * <usize>gS3) << 2)));
  if (gS4 && p(op, 4)) store<u32>(gRec + 16, <u32>(p(op, 4) + ((r * <usize>gS4) << 2)));
  return gRec;
}

/** The record moved to example `lo` by the host's table [count, (word, floats per example) …] (record word 14). */
function recordFromTable(op: usize, table: usize, lo: i32): usize {
  memory.copy(gRec, op, <usize>RECORD_BYTES);
  const count = w(table, 0), r = <usize>lo;
  for (let i = 0; i < count; i++) {
    const word = w(table, 1 + 2 * i), q = p(op, word);
    if (q) store<u32>(gRec + (<usize>word << 2), <u32>(q + ((r * <usize>w(table, 2 + 2 * i)) << 2)));
  }
  return gRec;
}

/**
 * Rows [gLo, gHi) of a row-split loss or metric: each row's terms (the
 * metrics words the record's word 13 names, +1 each) into the row scratch,
 * from the kernel run on that one row with the batch's gradient scale; in
 * predict, the outputs of the share.
 */
function lossRows(op: usize, code: i32, rows: i32, start: i32): void {
  const lo = <usize>gLo, n = gHi - gLo;
  if (code == OP_SEQUENCE_XENT) {
    if (gProbs != 0) return; // no predict output (its records' guard: none)
    const T = w(op, 3), out = p(op, SCRATCH_WORD), entries = <usize>rows * <usize>T;
    sequenceXentRows(p(op, 1), p(op, 5), p(op, 2), gLo, gHi, T, w(op, 4), <f64>rows * <f64>T, out, out + (entries << 3));
    return;
  }
  if (gProbs != 0) {
    if (code == OP_SOFTMAX_XENT || code == OP_CATEGORICAL_CROSSENTROPY) {
      const C = w(op, 3), cs = <usize>C << 2;
      softmax(p(op, 1) + lo * cs, gProbs + <usize>(start + gLo) * cs, n, C);
    } else if (code == OP_BINARY_CROSSENTROPY) {
      binaryOutputs(p(op, 1) + (lo << 2), gProbs + (<usize>(start + gLo) << 2), n, w(op, 3));
    } else if (code == OP_MEAN_SQUARED_ERROR || code == OP_MEAN_ABSOLUTE_ERROR || code == OP_HUBER) {
      const W = w(op, 4), ws = <usize>W << 2;
      copyOutputs(p(op, 1) + lo * ws, gProbs + <usize>(start + gLo) * ws, n, W, w(op, 6));
    }
    return;
  }
  if (code == OP_CATEGORICAL_CROSSENTROPY) { // its sum runs over rows and classes: one entry per (row, class)
    const out = p(op, SCRATCH_WORD), entries = <usize>rows * <usize>w(op, 3);
    categoricalCrossentropyTerms(p(op, 1), p(op, 5), p(op, 2), gLo, gHi, w(op, 3), reinterpret<f32>(w(op, 4)), <f64>rows, out, out + (entries << 3));
    return;
  }
  const slots = w(op, 13), first = (slots & 0xff) - 1, second = ((slots >>> 8) & 0xff) - 1;
  const lossOut = p(op, SCRATCH_WORD), correctOut = lossOut + (<usize>rows << 3);
  for (let r = gLo; r < gHi; r++) {
    memory.fill(gTemp, 0, 256);
    const ru = <usize>r;
    if (code == OP_SOFTMAX_XENT) {
      const cs = <usize>w(op, 3) << 2, dl = p(op, 2);
      softmaxXent(p(op, 1) + ru * cs, p(op, 4) + (ru << 2), dl ? dl + ru * cs : 0, 1, w(op, 3), <f64>rows, gTemp);
    } else if (code == OP_BINARY_CROSSENTROPY) {
      const dz = p(op, 2);
      binaryCrossentropy(p(op, 1) + (ru << 2), p(op, 5) + (ru << 2), dz ? dz + (ru << 2) : 0, 1, w(op, 3), reinterpret<f32>(w(op, 4)), <f64>rows, gTemp);
    } else if (code == OP_TOP_K_CATEGORICAL_ACCURACY) {
      const cs = <usize>w(op, 2) << 2;
      topKCount(p(op, 1) + ru * cs, p(op, 5) + (ru << 2), 1, w(op, 2), w(op, 3), gTemp, w(op, 4));
    } else {
      const ws = <usize>w(op, 4) << 2, dy = p(op, 3);
      const kind = code == OP_MEAN_SQUARED_ERROR ? 0 : code == OP_MEAN_ABSOLUTE_ERROR ? 1 : 2;
      regressionLoss(kind, p(op, 1) + ru * ws, p(op, 2) + ru * ws, dy ? dy + ru * ws : 0, 1, w(op, 4), reinterpret<f32>(w(op, 5)), <f64>rows, gTemp, w(op, 6));
    }
    store<f64>(lossOut + (ru << 3), load<f64>(gTemp + (<usize>first << 3)));
    store<f64>(correctOut + (ru << 3), second >= 0 ? load<f64>(gTemp + (<usize>second << 3)) : 0.0);
  }
}

/**
 * ROW_REDUCE [code, scratch, metrics word of the first sum, of the second
 * (-1: none), of the row count (-1: none), entries per row, divisor], on
 * thread 0: the row scratch's two columns (rows · entries each) summed in
 * order into the metrics, the first divided by `divisor` when it is over
 * 1, as the loss op's own loop does on one thread. Nothing in predict.
 */
export function rowReduce(op: usize, rows: i32): void {
  if (gProbs != 0) return;
  const n = rows * w(op, 5), a = p(op, 1), b = a + (<usize>n << 3);
  let s = 0.0, c = 0.0;
  for (let i = 0; i < n; i++) { s += load<f64>(a + (<usize>i << 3)); c += load<f64>(b + (<usize>i << 3)); }
  const div = w(op, 6);
  if (div > 1) s = s / <f64>div;
  const m = gMetrics, first = w(op, 2), second = w(op, 3), count = w(op, 4);
  store<f64>(m + (<usize>first << 3), load<f64>(m + (<usize>first << 3)) + s);
  if (second >= 0) store<f64>(m + (<usize>second << 3), load<f64>(m + (<usize>second << 3)) + c);
  if (count >= 0) store<f64>(m + (<usize>count << 3), load<f64>(m + (<usize>count << 3)) + <f64>rows);
}

/** This thread's share of a split op; `rows` are the batch's examples. */
export function runShare(op: usize, how: i32, al: i32, rows: i32, start: i32, step: i32): void {
  const code = w(op, 0);
  if (how == RECORD_ROWS) {
    share(rows, al);
    if (gHi <= gLo) return;
    const lo = <usize>gLo, n = gHi - gLo;
    switch (code) {
      case OP_GATHER:
        gather(gImages, gLabels, gOrder, start + gLo, n, w(op, 2), p(op, 1) + ((lo * <usize>w(op, 2)) << 2), p(op, 3) + (lo << 2));
        return;
      case OP_GATHER_F32:
        gatherF32(gImages, gLabels, gOrder, start + gLo, n, w(op, 2), p(op, 1) + ((lo * <usize>w(op, 2)) << 2), p(op, 3) + (lo << 2));
        return;
      case OP_GATHER_TARGETS:
        gatherTargets(gTargets, gOrder, start + gLo, n, w(op, 2), p(op, 1) + ((lo * <usize>w(op, 2)) << 2));
        return;
      case OP_DROPOUT: case OP_DROPOUT_BACKWARD: {
        const f = <usize>w(op, 3), off = (lo * f) << 2;
        dropoutFrom(p(op, 1) + off, p(op, 2) + off, n * <i32>f, rngKey(gSeed, <u32>w(op, 4), <u32>step), w(op, 5), reinterpret<f32>(w(op, 6)), gLo * <i32>f);
        return;
      }
      case OP_SOFTMAX_XENT: case OP_CATEGORICAL_CROSSENTROPY: case OP_BINARY_CROSSENTROPY: case OP_MEAN_SQUARED_ERROR:
      case OP_MEAN_ABSOLUTE_ERROR: case OP_HUBER: case OP_TOP_K_CATEGORICAL_ACCURACY: case OP_SEQUENCE_XENT:
        lossRows(op, code, rows, start);
        return;
    }
    const table = w(op, SYNC_WORD) & SYNC_TABLE ? p(op, SCRATCH_WORD) : 0;
    if (table) dispatch(recordFromTable(op, table, gLo), n, start + gLo, step);
    else if (rowStrides(op)) dispatch(recordAt(op, gLo), n, start + gLo, step);
    else unreachable(); // the host asked for a split this file does not have
    return;
  }
  if (how == COLS && colsShare(op, code, al, rows)) return;
  if (code == OP_DENSE_FORWARD) {
    // COLS: output columns (the rows·seq matrix rows all on every thread).
    const M = rows * w(op, 9);
    const x = p(op, 1), wp = p(op, 2), b = p(op, 3), y = p(op, 4), K = w(op, 5), N = w(op, 6);
    const ks = <usize>K << 2, ns = <usize>N << 2, epi = w(op, 7) ? EPI_RELU : EPI_NONE, sparse = w(op, 8);
    share(N, al);
    const o = <usize>gLo << 2;
    if (gHi > gLo) gemm(x, ks, 4, wp + o, ns, y + o, ns, M, gHi - gLo, K, b ? b + o : 0, epi, 0, 0, sparse);
  } else if (code == OP_DENSE_BACKWARD_INPUT) {
    const M = rows * w(op, 7);
    const dy = p(op, 1), wt = p(op, 2), dx = p(op, 3), mask = p(op, 4), K = w(op, 5), N = w(op, 6);
    const ks = <usize>K << 2, ns = <usize>N << 2, epi = mask ? EPI_MASK : EPI_NONE;
    share(K, al);
    const o = <usize>gLo << 2;
    if (gHi > gLo) gemm(dy, ns, 4, wt + o, ks, dx + o, ks, M, gHi - gLo, N, 0, epi, mask ? mask + o : 0, ks, 0);
  } else if (code == OP_DENSE_BACKWARD_WEIGHTS) {
    // dW by rows of dW (input features), db by columns: neither splits a sum over the batch.
    const M = rows * w(op, 8);
    const x = p(op, 1), dy = p(op, 2), dw = p(op, 3), db = p(op, 4), K = w(op, 5), N = w(op, 6), sparse = w(op, 7);
    const ks = <usize>K << 2, ns = <usize>N << 2;
    share(K, al);
    if (gHi > gLo) gemm(x + (<usize>gLo << 2), 4, ks, dy, ns, dw + <usize>gLo * ns, ns, gHi - gLo, N, M, 0, EPI_NONE, 0, 0, sparse);
    if (db) {
      share(N, 4);
      const o = <usize>gLo << 2;
      if (gHi > gLo) columnSumsStrided(dy + o, db + o, M, gHi - gLo, ns);
    }
  } else if (code == OP_ADAM) {
    share(w(op, 5), al);
    const o = <usize>gLo << 2;
    if (gHi > gLo) adam(p(op, 1) + o, p(op, 2) + o, p(op, 3) + o, p(op, 4) + o, gHi - gLo, adamStepSize(gLr, gB1, gB2, <f64>(step + 1)), gB1, gB2, gEps);
  } else if (code == OP_TRANSPOSE) {
    share(w(op, 3), al);
    if (gHi > gLo) transposeRows(p(op, 1), p(op, 2), w(op, 3), w(op, 4), gLo, gHi);
  } else if (code == OP_CONV2D_BACKWARD_WEIGHTS) {
    convWeightsShare(op, rows);
  } else if (how == PARAM_RANGE) {
    // The record with its pointers (0: absent, e.g. no momentum) moved to this thread's first float.
    // sgd: p, g, m, size | adamw: p, g, m, v, vhat, size | rmsprop: p, g, v, mom, mg, size | grad_prep: p, g, size | grad_clip: g, norm, size
    const ptrs = code == OP_SGD ? 3 : code == OP_ADAMW || code == OP_RMSPROP ? 5 : code == OP_GRAD_PREP ? 2 : code == OP_GRAD_CLIP ? 1 : 0;
    if (ptrs == 0) unreachable();
    const sizeWord = code == OP_GRAD_CLIP ? 3 : ptrs + 1;
    share(w(op, sizeWord), al);
    if (gHi <= gLo) return;
    memory.copy(gRec, op, <usize>RECORD_BYTES);
    for (let i = 1; i <= ptrs; i++) {
      const q = p(op, i);
      if (q) store<u32>(gRec + (<usize>i << 2), <u32>(q + (<usize>gLo << 2)));
    }
    store<i32>(gRec + (<usize>sizeWord << 2), gHi - gLo);
    dispatch(gRec, rows, start, step);
  } else {
    unreachable();
  }
}

/**
 * COLS of the ops whose sums over the batch split by columns: layer norm's
 * dX by rows with dγ/dβ by features share(D, al); embedding dTable by table
 * rows share(V, 1); position embedding dP by floats share(F, al); batch
 * normalization by channels share(C, al). False: not one of them.
 */
function colsShare(op: usize, code: i32, al: i32, rows: i32): bool {
  if (code == OP_LAYER_NORM_BACKWARD) {
    // dy, x, gamma, mean, rstd, dx, dgamma, dbeta, groups, dim
    const G = w(op, 9), D = w(op, 10), n = rows * G, rb = <usize>D << 2;
    share(rows, 4);
    const v0 = <usize>(gLo * G);
    if (gHi > gLo) layerNormBackward(p(op, 1) + v0 * rb, p(op, 2) + v0 * rb, p(op, 3), p(op, 4) + (v0 << 2), p(op, 5) + (v0 << 2), p(op, 6) + v0 * rb, 0, 0, (gHi - gLo) * G, D);
    share(D, al);
    if (gHi > gLo) layerNormParamGrads(p(op, 1), p(op, 2), p(op, 3), p(op, 4), p(op, 5), p(op, 7), p(op, 8), n, D, gLo, gHi);
    return true;
  }
  if (code == OP_EMBEDDING_BACKWARD) { // ids, dy, dtable, positions, dim, vocab
    share(w(op, 6), 1);
    embeddingBackwardRows(p(op, 1), p(op, 2), p(op, 3), rows * w(op, 4), w(op, 5), w(op, 6), gLo, gHi);
    return true;
  }
  if (code == OP_POSITION_EMBEDDING_BACKWARD) { // dy, dp, positions, dim
    const F = w(op, 3) * w(op, 4);
    share(F, al);
    if (gHi > gLo) positionEmbeddingBackwardColumns(p(op, 1), p(op, 2), rows, F, gLo, gHi);
    return true;
  }
  if (code == OP_BATCH_NORM_TRAIN || code == OP_BATCH_NORM_INFERENCE) {
    // x, gamma, beta, movingMean, movingVariance, stats, y, features, channels, epsilon[, momentum]
    share(w(op, 9), al);
    if (gHi <= gLo) return true;
    if (code == OP_BATCH_NORM_TRAIN) batchNormTrainChannels(p(op, 1), p(op, 2), p(op, 3), p(op, 4), p(op, 5), p(op, 6), p(op, 7), rows, w(op, 8), w(op, 9), reinterpret<f32>(w(op, 10)), reinterpret<f32>(w(op, 11)), gLo, gHi);
    else batchNormInferenceChannels(p(op, 1), p(op, 2), p(op, 3), p(op, 4), p(op, 5), p(op, 6), p(op, 7), rows, w(op, 8), w(op, 9), reinterpret<f32>(w(op, 10)), gLo, gHi);
    return true;
  }
  if (code == OP_BATCH_NORM_BACKWARD) { // dy, x, stats, dx, dgamma, dbeta, features, channels
    share(w(op, 8), al);
    if (gHi > gLo) batchNormBackwardChannels(p(op, 1), p(op, 2), p(op, 3), p(op, 4), p(op, 5), p(op, 6), rows, w(op, 7), w(op, 8), gLo, gHi);
    return true;
  }
  return false;
}

/** conv dW: by taps for short windows (the 32-channel loops stay whole), else by output channels, else on thread 0. */
function convWeightsShare(op: usize, rows: i32): void {
  const a = w(op, 5), o = w(op, 6), k = w(op, 7), s = w(op, 8), d = w(op, 9), pd = w(op, 10);
  const outC = w(op, 12), T2 = hw(k) * w(op, 11);
  if (smallConv(T2, outC) && T2 >= gThreads) {
    share(T2, 1);
    if (gHi > gLo) conv2dBackwardWeightsSmall(p(op, 1), p(op, 2), p(op, 3), COL, rows,
      a >>> 16, a & 0xffff, w(op, 11), o >>> 16, o & 0xffff, outC, k >>> 16, k & 0xffff,
      s >>> 16, s & 0xffff, d >>> 16, d & 0xffff, pd >>> 16, pd & 0xffff, w(op, 13), gLo, gHi);
    const db = p(op, 4);
    if (db) {
      share(outC, 4);
      const off = <usize>gLo << 2;
      if (gHi > gLo) columnSumsStrided(p(op, 2) + off, db + off, rows * hw(o), gHi - gLo, <usize>outC << 2);
    }
    return;
  }
  if (!smallConv(T2, outC) && convWeightsSplittable(T2, outC) && outC >= 8 * gThreads) {
    share(outC, 8);
    if (gHi > gLo) conv2dBackwardWeightsColumns(p(op, 1), p(op, 2), p(op, 3), p(op, 4), rows,
      a >>> 16, a & 0xffff, w(op, 11), o >>> 16, o & 0xffff, outC, k >>> 16, k & 0xffff,
      s >>> 16, s & 0xffff, d >>> 16, d & 0xffff, pd >>> 16, pd & 0xffff, w(op, 13), gLo, gHi);
    return;
  }
  if (gTid == 0) dispatch(op, rows, 0, 0);
}
