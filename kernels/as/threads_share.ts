// One thread's share of a split op (the threads build; kernels/as/threads.ts
// walks the plan). The host decides how each record splits and where the
// barriers go (src/runtime/wasm/schedule.ts) and writes it into the record's
// sync word (word SYNC_WORD): the split mode in bits 0-3, "barrier before
// this record" in bit 4, and the share alignment in bits 8-31. Every mode
// gives each output element to exactly one thread, computed with the same
// terms in the same order as on one thread, so the numbers are bit-identical
// at any thread count:
//   COLS          matmul output columns share(N, al) (dense forward / dX;
//                 conv dW by output channels)
//   ROWS          dW rows share(K, al) with db columns share(N, 4) (dense),
//                 filter taps (conv dW), rows of a transposed kernel
//   RANGE         Adam over share(n, al) of its floats
//   RECORD_ROWS   examples share(rows, al): the record's per-row pointers
//                 moved to the share's first example (gather, elementwise,
//                 activations, dense on rows, conv, pools, dropout, losses)
//   PARAM_RANGE   the other optimizers over share(n, al)
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
  OP_ADD, OP_SUBTRACT, OP_MULTIPLY, OP_SCALE } from './dispatch.generated';
import { gemm, columnSumsStrided, EPI_NONE, EPI_RELU, EPI_MASK } from './dense';
import { adam, adamStepSize } from './adam';
import { transposeRows, dropoutFrom } from './elementwise';
import { gather, gatherF32, gatherTargets } from './gather';
import { softmaxXent, softmax } from './loss';
import { rngKey } from './rng';
import { COL } from './conv';
import { conv2dBackwardWeightsColumns, convWeightsSplittable } from './conv_backward';
import { smallConv, conv2dBackwardWeightsSmall } from './conv_small';
import { gImages, gLabels, gOrder, gTargets, gMetrics, gProbs, gLr, gB1, gB2, gEps, gSeed } from './context';

export const OP_WORDS = 16;
export const SYNC_WORD = 15;
export const SCRATCH_WORD = 14;
export const SYNC_BARRIER = 16;
/** The host's thread-plan record that sums a row-split loss's row scratch into the metrics (not a graph op). */
export const OP_ROW_REDUCE = 127;

export const SINGLE = 0, COLS = 1, ROWS = 2, RANGE = 3, RECORD_ROWS = 4, PARAM_RANGE = 5, CONV_AUTO = 6;

export let gTid: i32 = 0;
export let gThreads: i32 = 1;
let gRec: usize = 0; // this thread's copy of a record
let gTemp: usize = 0; // this thread's metrics for one row of a loss (META_BYTES)
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

/** Rows [gLo, gHi) of a row-split softmax_xent: each row's loss and correct flag into the row scratch (or, in predict, probabilities). */
function lossRows(op: usize, rows: i32, start: i32): void {
  const C = w(op, 3), cs = <usize>C << 2;
  const logits = p(op, 1), dl = p(op, 2), labels = p(op, 4);
  if (gProbs != 0) {
    softmax(logits + <usize>gLo * cs, gProbs + <usize>(start + gLo) * cs, gHi - gLo, C);
    return;
  }
  const lossOut = p(op, SCRATCH_WORD), correctOut = lossOut + (<usize>rows << 3);
  for (let r = gLo; r < gHi; r++) {
    memory.fill(gTemp, 0, 24);
    const o = <usize>r * cs;
    softmaxXent(logits + o, labels + (<usize>r << 2), dl ? dl + o : 0, 1, C, <f64>rows, gTemp);
    store<f64>(lossOut + (<usize>r << 3), load<f64>(gTemp));
    store<f64>(correctOut + (<usize>r << 3), load<f64>(gTemp, 8));
  }
}

/**
 * ROW_REDUCE [code, scratch, metrics word of the first sum, of the second
 * (-1: none), of the row count (-1: none)], on thread 0: the row scratch's
 * two columns summed in row order into the metrics, as the loss op's own
 * loop sums them on one thread. Nothing in predict.
 */
export function rowReduce(op: usize, rows: i32): void {
  if (gProbs != 0) return;
  const a = p(op, 1), b = a + (<usize>rows << 3);
  let s = 0.0, c = 0.0;
  for (let i = 0; i < rows; i++) { s += load<f64>(a + (<usize>i << 3)); c += load<f64>(b + (<usize>i << 3)); }
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
      case OP_SOFTMAX_XENT:
        lossRows(op, rows, start);
        return;
    }
    if (!rowStrides(op)) unreachable(); // the host asked for a split this file does not have
    dispatch(recordAt(op, gLo), n, start + gLo, step);
    return;
  }
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
    const ptrs = code == OP_SGD ? 3 : code == OP_ADAMW || code == OP_RMSPROP ? 5 : 0; // p, g, m | p, g, m, v, vhat | p, g, v, mom, mg
    if (ptrs == 0) unreachable();
    share(w(op, ptrs + 1), al);
    if (gHi <= gLo) return;
    memory.copy(gRec, op, <usize>RECORD_BYTES);
    for (let i = 1; i <= ptrs; i++) {
      const q = p(op, i);
      if (q) store<u32>(gRec + (<usize>i << 2), <u32>(q + (<usize>gLo << 2)));
    }
    store<i32>(gRec + (<usize>(ptrs + 1) << 2), gHi - gLo);
    dispatch(gRec, rows, start, step);
  } else {
    unreachable();
  }
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
