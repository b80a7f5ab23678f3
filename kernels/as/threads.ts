// The threads build (asconfig.threads.json: shared memory, atomics): N
// workers, each with its own instance of this module over ONE shared
// memory, run the same plan together. The host (src/runtime/wasm/threads.ts)
// writes a command into the control block and bumps its generation; every
// worker, parked in workerLoop, wakes, runs the whole chunk of steps (or the
// evaluation) and counts itself done. No message passes per step.
//
// Inside a command every thread walks the same records. An op big enough to
// pay for a barrier is split into fixed shares by thread index: matmuls and
// convolutions by output columns or rows (images; dW by output channels, or
// by taps for short windows), elementwise ops, dropout, Adam and transposes
// by ranges. A small op (and every op that accumulates a sum
// across rows: the loss and its metrics) runs whole on thread 0. A share
// never splits a sum: every output element is computed by one thread with
// the same terms in the same order as on one thread, so the numbers are
// bit-identical at any thread count. Barriers go only where a parallel op
// begins or ends.
//
// Control block (i32 words at `ctrl`, hot words on separate cache lines):
//   GEN     command generation (the host bumps it, workers wait on it)
//   DONE    workers done with the current command (the host waits on it)
//   BAR_N   threads arrived at the current barrier
//   BAR_GEN barrier generation
//   ABORT   non-zero: a worker failed; the others trap out of their waits
//   CMD     CMD_TRAIN | CMD_INFER | CMD_EXIT, then its arguments (ARGS, F64S)
import { dispatch, OP_DENSE_FORWARD, OP_DENSE_BACKWARD_WEIGHTS, OP_DENSE_BACKWARD_INPUT, OP_ADAM, OP_TRANSPOSE,
  OP_CONV2D_FORWARD, OP_CONV2D_BACKWARD_INPUT, OP_CONV2D_BACKWARD_WEIGHTS, OP_RELU, OP_RELU_BACKWARD,
  OP_SIGMOID, OP_SIGMOID_BACKWARD, OP_TANH, OP_TANH_BACKWARD, OP_LEAKY_RELU, OP_LEAKY_RELU_BACKWARD, OP_ELU, OP_ELU_BACKWARD,
  OP_GELU, OP_GELU_BACKWARD, OP_GELU_TANH, OP_GELU_TANH_BACKWARD, OP_SILU, OP_SILU_BACKWARD, OP_SOFTPLUS, OP_SOFTPLUS_BACKWARD,
  OP_SOFTMAX, OP_SOFTMAX_BACKWARD, OP_DROPOUT, OP_DROPOUT_BACKWARD, OP_SGD, OP_ADAMW, OP_MAX_POOL2D, OP_MAX_POOL2D_BACKWARD, OP_AVERAGE_POOL2D, OP_AVERAGE_POOL2D_BACKWARD } from './dispatch.generated';
import { gemm, columnSumsStrided, setDenseScratch, IDX_CAP, EPI_NONE, EPI_RELU, EPI_MASK } from './dense';
import { adam, adamStepSize } from './adam';
import { transposeRows, dropoutFrom } from './elementwise';
import { rngKey } from './rng';
import { setConvScratch, COL, COL_FLOATS, AUX_FLOATS } from './conv';
import { conv2dBackwardWeightsColumns, convWeightsSplittable } from './conv_backward';
import { setSmallScratch, SMALL_SCRATCH, smallConv, conv2dBackwardWeightsSmall } from './conv_small';
import { setData, setOutputs, setTraining, setTargets, gLr, gB1, gB2, gEps, gSeed } from './context';
import { OP_WORDS } from './step';

export const GEN: usize = 0;
export const DONE: usize = 64;
export const BAR_N: usize = 128;
export const BAR_GEN: usize = 192;
export const ABORT: usize = 256;
export const CMD: usize = 320;
export const ARGS: usize = 324; // i32 arguments
export const F64S: usize = 384; // f64 arguments
export const CTRL_BYTES: i32 = 448;
export const CMD_TRAIN = 1;
export const CMD_INFER = 2;
export const CMD_EXIT = 3;

// An op runs split only above these sizes (multiply-adds, elements): below
// them two barriers (~a few µs) cost more than the halved work saves.
const MIN_MACS = 65536;
const MIN_ELEMS = 8192;
// Barrier polls before sleeping in atomic.wait.
const SPIN = 20000;

let gCtrl: usize = 0;
let gTid: i32 = 0;
let gThreads: i32 = 1;
let gTrapStep: i32 = -1;
let gRec: usize = 0; // this thread's copy of a record, for row shares
let gLo: i32 = 0;
let gHi: i32 = 0;

const RECORD_BYTES: i32 = OP_WORDS * 4;
const SCRATCH_IDX = 0;
const SCRATCH_COL = IDX_CAP * 4;
const SCRATCH_AUX = SCRATCH_COL + COL_FLOATS * 4;
const SCRATCH_SMALL = SCRATCH_AUX + AUX_FLOATS * 4;
const SCRATCH_REC = SCRATCH_SMALL + SMALL_SCRATCH;

/** Bytes of per-thread scratch (the static scratch of dense, conv and conv_small, and a record). */
export function threadScratchBytes(): i32 {
  return SCRATCH_REC + RECORD_BYTES;
}

function useScratch(s: usize): void {
  setDenseScratch(s + SCRATCH_IDX);
  setConvScratch(s + SCRATCH_COL, s + SCRATCH_AUX);
  setSmallScratch(s + SCRATCH_SMALL);
  gRec = s + SCRATCH_REC;
}

// @ts-ignore: decorator
@inline function w(op: usize, i: i32): i32 { return load<i32>(op + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function p(op: usize, i: i32): usize { return <usize>load<u32>(op + (<usize>i << 2)); }

/** This thread's share [gLo, gHi) of `total` in units of `align` (the last share ends at total). */
function share(total: i32, align: i32): void {
  const units = (total + align - 1) / align;
  gLo = min(total, <i32>(<i64>units * gTid / gThreads) * align);
  gHi = min(total, <i32>(<i64>units * (gTid + 1) / gThreads) * align);
}

function barrier(): void {
  const c = gCtrl;
  const g = atomic.load<i32>(c + BAR_GEN);
  if (atomic.add<i32>(c + BAR_N, 1) == gThreads - 1) {
    atomic.store<i32>(c + BAR_N, 0);
    atomic.store<i32>(c + BAR_GEN, g + 1);
    atomic.notify(c + BAR_GEN, gThreads);
    return;
  }
  for (let i = 0; i < SPIN; i++) if (atomic.load<i32>(c + BAR_GEN) != g) return;
  while (atomic.load<i32>(c + BAR_GEN) == g) {
    if (atomic.load<i32>(c + ABORT) != 0) unreachable(); // another worker failed: leave
    atomic.wait<i32>(c + BAR_GEN, g, 20_000_000); // 20 ms, then look at ABORT again
  }
}

const SINGLE = 0, COLS = 1, ROWS = 2, RANGE = 3, RECORD_ROWS = 4, PARAM_RANGE = 5;

// Optimizer records over n floats: the pointer words 1 … nPtr move by a share's first float, word nPtr+1 is n.
let gParamPtrs = 0;

// Floats per row of the record's pointer words 1 … 4 for a row share (0: not per row).
let gS1 = 0, gS2 = 0, gS3 = 0, gS4 = 0;

// @ts-ignore: decorator
@inline function hw(v: i32): i32 { return (v >>> 16) * (v & 0xffff); }

/** Per-row strides of an op whose rows (examples) are independent; returns the row alignment, 0 if none. */
function rowSplit(op: usize, rows: i32): i32 {
  gS1 = 0; gS2 = 0; gS3 = 0; gS4 = 0;
  const code = w(op, 0);
  switch (code) {
    case OP_RELU: case OP_SIGMOID: case OP_TANH: case OP_LEAKY_RELU: case OP_ELU: case OP_GELU:
    case OP_GELU_TANH: case OP_SILU: case OP_SOFTPLUS: case OP_SOFTMAX:
      gS1 = w(op, 3); gS2 = gS1;
      return rows * gS1 >= MIN_ELEMS ? 4 : 0;
    case OP_RELU_BACKWARD: case OP_SOFTMAX_BACKWARD:
      gS1 = w(op, 4); gS2 = gS1; gS3 = gS1;
      return rows * gS1 >= MIN_ELEMS ? 4 : 0;
    case OP_SIGMOID_BACKWARD: case OP_TANH_BACKWARD: case OP_LEAKY_RELU_BACKWARD: case OP_ELU_BACKWARD:
    case OP_GELU_BACKWARD: case OP_GELU_TANH_BACKWARD: case OP_SILU_BACKWARD: case OP_SOFTPLUS_BACKWARD:
      gS1 = w(op, 5); gS2 = gS1; gS3 = gS1; gS4 = gS1;
      return rows * gS1 >= MIN_ELEMS ? 4 : 0;
    case OP_CONV2D_FORWARD: // x, w, b, y
      gS1 = hw(w(op, 5)) * w(op, 11); gS4 = hw(w(op, 6)) * w(op, 12);
      return 1;
    case OP_CONV2D_BACKWARD_INPUT: // dy, w, dx, reluOut
      gS1 = hw(w(op, 6)) * w(op, 12); gS3 = hw(w(op, 5)) * w(op, 11); gS4 = gS3;
      return 1;
    case OP_MAX_POOL2D: case OP_AVERAGE_POOL2D: // x, y, inHW, outHW, …, channels
      gS1 = hw(w(op, 3)) * w(op, 8); gS2 = hw(w(op, 4)) * w(op, 8);
      return rows * gS1 >= MIN_ELEMS ? 1 : 0;
    case OP_MAX_POOL2D_BACKWARD: // dy, x, dx, inHW, outHW, …, channels
      gS1 = hw(w(op, 5)) * w(op, 9); gS2 = hw(w(op, 4)) * w(op, 9); gS3 = gS2;
      return rows * gS2 >= MIN_ELEMS ? 1 : 0;
    case OP_AVERAGE_POOL2D_BACKWARD: // dy, dx, inHW, outHW, …, channels
      gS1 = hw(w(op, 4)) * w(op, 8); gS2 = hw(w(op, 3)) * w(op, 8);
      return rows * gS2 >= MIN_ELEMS ? 1 : 0;
  }
  return 0;
}

/** How the op at `op` is split at this thread count (the same answer on every thread). */
function splitOf(op: usize, rows: i32): i32 {
  const T = gThreads;
  if (T == 1) return SINGLE;
  switch (w(op, 0)) {
    case OP_DENSE_FORWARD: case OP_DENSE_BACKWARD_INPUT: {
      const K = w(op, 5), N = w(op, 6);
      if (<i64>rows * K * N < MIN_MACS) return SINGLE;
      const cols = w(op, 0) == OP_DENSE_FORWARD ? N : K;
      if (cols >= 8 * T) return COLS;
      return rows >= 4 * T ? ROWS : SINGLE;
    }
    case OP_DENSE_BACKWARD_WEIGHTS: {
      const K = w(op, 5), N = w(op, 6);
      return <i64>rows * K * N >= MIN_MACS && K >= 4 * T ? ROWS : SINGLE;
    }
    case OP_ADAM: return w(op, 5) >= MIN_ELEMS ? RANGE : SINGLE;
    case OP_TRANSPOSE: return w(op, 3) * w(op, 4) >= MIN_ELEMS && w(op, 3) >= 4 * T ? ROWS : SINGLE;
    case OP_CONV2D_BACKWARD_WEIGHTS: {
      const T2 = hw(w(op, 7)) * w(op, 11), outC = w(op, 12);
      if (smallConv(T2, outC)) return T2 >= T ? ROWS : SINGLE; // by taps: the 32-channel loops stay whole
      return convWeightsSplittable(T2, outC) && outC >= 8 * T ? COLS : SINGLE;
    }
    case OP_DROPOUT: case OP_DROPOUT_BACKWARD: return rows * w(op, 3) >= MIN_ELEMS ? RANGE : SINGLE;
    case OP_SGD: gParamPtrs = 3; return w(op, 4) >= MIN_ELEMS ? PARAM_RANGE : SINGLE; // p, g, m, size
    case OP_ADAMW: gParamPtrs = 5; return w(op, 6) >= MIN_ELEMS ? PARAM_RANGE : SINGLE; // p, g, m, v, vhat, size
  }
  const align = rowSplit(op, rows);
  return align > 0 && rows >= align * T ? RECORD_ROWS : SINGLE;
}

/** This thread's share of a split op. */
function runShare(op: usize, how: i32, rows: i32, start: i32, step: i32): void {
  const code = w(op, 0);
  if (code == OP_DENSE_FORWARD) {
    const x = p(op, 1), wp = p(op, 2), b = p(op, 3), y = p(op, 4), K = w(op, 5), N = w(op, 6);
    const ks = <usize>K << 2, ns = <usize>N << 2, epi = w(op, 7) ? EPI_RELU : EPI_NONE, sparse = w(op, 8);
    if (how == COLS) {
      share(N, 8);
      const o = <usize>gLo << 2;
      if (gHi > gLo) gemm(x, ks, 4, wp + o, ns, y + o, ns, rows, gHi - gLo, K, b ? b + o : 0, epi, 0, 0, sparse);
    } else {
      share(rows, 4);
      if (gHi > gLo) gemm(x + <usize>gLo * ks, ks, 4, wp, ns, y + <usize>gLo * ns, ns, gHi - gLo, N, K, b, epi, 0, 0, sparse);
    }
  } else if (code == OP_DENSE_BACKWARD_INPUT) {
    const dy = p(op, 1), wt = p(op, 2), dx = p(op, 3), mask = p(op, 4), K = w(op, 5), N = w(op, 6);
    const ks = <usize>K << 2, ns = <usize>N << 2, epi = mask ? EPI_MASK : EPI_NONE;
    if (how == COLS) {
      share(K, 8);
      const o = <usize>gLo << 2;
      if (gHi > gLo) gemm(dy, ns, 4, wt + o, ks, dx + o, ks, rows, gHi - gLo, N, 0, epi, mask ? mask + o : 0, ks, 0);
    } else {
      share(rows, 4);
      const o = <usize>gLo * ks;
      if (gHi > gLo) gemm(dy + <usize>gLo * ns, ns, 4, wt, ks, dx + o, ks, gHi - gLo, K, N, 0, epi, mask ? mask + o : 0, ks, 0);
    }
  } else if (code == OP_DENSE_BACKWARD_WEIGHTS) {
    // dW by rows of dW (input features), db by columns: neither splits a sum over the batch.
    const x = p(op, 1), dy = p(op, 2), dw = p(op, 3), db = p(op, 4), K = w(op, 5), N = w(op, 6), sparse = w(op, 7);
    const ks = <usize>K << 2, ns = <usize>N << 2;
    share(K, 4);
    if (gHi > gLo) gemm(x + (<usize>gLo << 2), 4, ks, dy, ns, dw + <usize>gLo * ns, ns, gHi - gLo, N, rows, 0, EPI_NONE, 0, 0, sparse);
    if (db) {
      share(N, 4);
      const o = <usize>gLo << 2;
      if (gHi > gLo) columnSumsStrided(dy + o, db + o, rows, gHi - gLo, ns);
    }
  } else if (code == OP_ADAM) {
    share(w(op, 5), 16);
    const o = <usize>gLo << 2;
    if (gHi > gLo) adam(p(op, 1) + o, p(op, 2) + o, p(op, 3) + o, p(op, 4) + o, gHi - gLo, adamStepSize(gLr, gB1, gB2, <f64>(step + 1)), gB1, gB2, gEps);
  } else if (code == OP_TRANSPOSE) {
    share(w(op, 3), 4);
    if (gHi > gLo) transposeRows(p(op, 1), p(op, 2), w(op, 3), w(op, 4), gLo, gHi);
  } else if (code == OP_CONV2D_BACKWARD_WEIGHTS) {
    const a = w(op, 5), o = w(op, 6), k = w(op, 7), s = w(op, 8), d = w(op, 9), pd = w(op, 10);
    const outC = w(op, 12), T2 = hw(k) * w(op, 11);
    if (how == ROWS) {
      // Short windows: dw by taps, then db by columns (neither splits a sum over pixels).
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
    share(outC, 8);
    if (gHi > gLo) conv2dBackwardWeightsColumns(p(op, 1), p(op, 2), p(op, 3), p(op, 4), rows,
      a >>> 16, a & 0xffff, w(op, 11), o >>> 16, o & 0xffff, outC, k >>> 16, k & 0xffff,
      s >>> 16, s & 0xffff, d >>> 16, d & 0xffff, pd >>> 16, pd & 0xffff, w(op, 13), gLo, gHi);
  } else if (code == OP_DROPOUT || code == OP_DROPOUT_BACKWARD) {
    share(rows * w(op, 3), 16);
    const off = <usize>gLo << 2;
    if (gHi > gLo) dropoutFrom(p(op, 1) + off, p(op, 2) + off, gHi - gLo, rngKey(gSeed, <u32>w(op, 4), <u32>step), w(op, 5), reinterpret<f32>(w(op, 6)), gLo);
  } else if (how == PARAM_RANGE) {
    // The record with its pointers (0: absent, e.g. no momentum) moved to this thread's first float.
    splitOf(op, rows); // sets gParamPtrs
    const n = w(op, gParamPtrs + 1);
    share(n, 16);
    if (gHi <= gLo) return;
    memory.copy(gRec, op, <usize>RECORD_BYTES);
    for (let i = 1; i <= gParamPtrs; i++) {
      const q = p(op, i);
      if (q) store<u32>(gRec + (<usize>i << 2), <u32>(q + (<usize>gLo << 2)));
    }
    store<i32>(gRec + (<usize>(gParamPtrs + 1) << 2), gHi - gLo);
    dispatch(gRec, rows, start, step);
  } else {
    // RECORD_ROWS: the record with its per-row pointers moved to this thread's first row.
    share(rows, rowSplit(op, rows));
    if (gHi <= gLo) return;
    memory.copy(gRec, op, <usize>RECORD_BYTES);
    const r = <usize>gLo;
    if (gS1 && p(op, 1)) store<u32>(gRec + 4, <u32>(p(op, 1) + ((r * <usize>gS1) << 2)));
    if (gS2 && p(op, 2)) store<u32>(gRec + 8, <u32>(p(op, 2) + ((r * <usize>gS2) << 2)));
    if (gS3 && p(op, 3)) store<u32>(gRec + 12, <u32>(p(op, 3) + ((r * <usize>gS3) << 2)));
    if (gS4 && p(op, 4)) store<u32>(gRec + 16, <u32>(p(op, 4) + ((r * <usize>gS4) << 2)));
    dispatch(gRec, gHi - gLo, start + gLo, step);
  }
}

// Whether the op before the current one ran split (then a barrier must follow it).
let gPrevSplit = false;

/**
 * The matrix rows a dense record works on: rows · seq for a dense layer on a
 * sequence (its `seq` word: the last field of each dense record), else rows.
 */
function matrixRows(op: usize, rows: i32): i32 {
  switch (w(op, 0)) {
    case OP_DENSE_FORWARD: return rows * w(op, 9);
    case OP_DENSE_BACKWARD_WEIGHTS: return rows * w(op, 8);
    case OP_DENSE_BACKWARD_INPUT: return rows * w(op, 7);
  }
  return rows;
}

function runOpsShared(plan: usize, nOps: i32, start: i32, rows: i32, step: i32): void {
  for (let o = 0; o < nOps; o++) {
    const op = plan + <usize>(o * RECORD_BYTES);
    const shareRows = matrixRows(op, rows);
    const how = splitOf(op, shareRows);
    if (how != SINGLE || gPrevSplit) barrier();
    if (how != SINGLE) runShare(op, how, shareRows, start, step);
    else if (gTid == 0) dispatch(op, rows, start, step);
    gPrevSplit = how != SINGLE;
  }
}

function trainShare(): void {
  const c = gCtrl + ARGS, f = gCtrl + F64S;
  const plan = p(c, 0), nOps = w(c, 1), count = w(c, 4), batch = w(c, 6);
  const firstBatch = w(c, 7), steps = w(c, 8), globalStep = w(c, 9);
  setData(p(c, 2), p(c, 3), p(c, 5));
  setOutputs(p(c, 11), 0);
  setTargets(p(c, 12));
  const rates = p(c, 13); // f64 learning rate per step (the host's schedule)
  for (let s = 0; s < steps; s++) {
    const start = (firstBatch + s) * batch;
    const rows = min(batch, count - start);
    if (rows <= 0) return;
    setTraining(<u32>w(c, 10), load<f64>(rates + (<usize>s << 3)), load<f64>(f), load<f64>(f, 8), load<f64>(f, 16));
    if (globalStep + s == gTrapStep) unreachable(); // a test's injected crash (TESSERA_TEST_WORKER_CRASH)
    runOpsShared(plan, nOps, start, rows, globalStep + s);
  }
}

function inferShare(): void {
  const c = gCtrl + ARGS;
  const plan = p(c, 0), nOps = w(c, 1), count = w(c, 4), batch = w(c, 5);
  setData(p(c, 2), p(c, 3), 0);
  setOutputs(p(c, 6), p(c, 7));
  setTargets(p(c, 8));
  for (let start = 0; start < count; start += batch) runOpsShared(plan, nOps, start, min(batch, count - start), 0);
  setOutputs(0, 0);
}

/**
 * A worker's life: wait for a new command generation, run this thread's part
 * of the command, count it done; until CMD_EXIT. `trapStep` >= 0 makes this
 * worker trap at that global step (tests of a crashing worker).
 */
export function workerLoop(ctrl: usize, tid: i32, threads: i32, scratch: usize, trapStep: i32): void {
  gCtrl = ctrl; gTid = tid; gThreads = threads; gTrapStep = trapStep;
  useScratch(scratch);
  let seen = 0;
  while (true) {
    while (atomic.load<i32>(ctrl + GEN) == seen) atomic.wait<i32>(ctrl + GEN, seen, -1);
    seen = atomic.load<i32>(ctrl + GEN);
    const cmd = atomic.load<i32>(ctrl + CMD);
    if (cmd == CMD_EXIT) return;
    gPrevSplit = false;
    if (cmd == CMD_TRAIN) trainShare();
    else if (cmd == CMD_INFER) inferShare();
    if (atomic.add<i32>(ctrl + DONE, 1) == threads - 1) atomic.notify(ctrl + DONE, 1);
  }
}

/** The control block's layout, for the host: [GEN, DONE, BAR_N, BAR_GEN, ABORT, CMD, ARGS, F64S, bytes]. */
export function controlLayout(out: usize): void {
  store<i32>(out, <i32>GEN); store<i32>(out, <i32>DONE, 4); store<i32>(out, <i32>BAR_N, 8); store<i32>(out, <i32>BAR_GEN, 12);
  store<i32>(out, <i32>ABORT, 16); store<i32>(out, <i32>CMD, 20); store<i32>(out, <i32>ARGS, 24); store<i32>(out, <i32>F64S, 28);
  store<i32>(out, CTRL_BYTES, 32);
}
