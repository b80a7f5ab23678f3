// The threads build (asconfig.threads.json: shared memory, atomics): N
// workers, each with its own instance of this module over ONE shared
// memory, run the same plan together. The host (src/runtime/wasm/threads.ts)
// writes a command into the control block and bumps its generation; every
// worker, parked in workerLoop, wakes, runs the whole chunk of steps (or the
// evaluation) and counts itself done. No message passes per step.
//
// Inside a command every thread walks the same records. How each record
// splits, and which records a barrier precedes, the host decided when it
// encoded the plan (src/runtime/wasm/schedule.ts: a barrier only where a
// thread reads or overwrites what another thread wrote since the last one)
// and wrote into the record's sync word; threads_share.ts runs a share.
//
// Control block (i32 words at `ctrl`, hot words on separate cache lines):
//   GEN     command generation (the host bumps it, workers wait on it)
//   DONE    workers done with the current command (the host waits on it)
//   BAR_N   threads arrived at the current barrier
//   BAR_GEN barrier generation
//   ABORT   non-zero: a worker failed; the others trap out of their waits
//   CMD     CMD_TRAIN | CMD_INFER | CMD_EXIT, then its arguments (ARGS, F64S)
import { dispatch } from './dispatch.generated';
import { setDenseScratch, IDX_CAP } from './dense';
import { setConvScratch, COL_FLOATS, AUX_FLOATS } from './conv';
import { setSmallScratch, SMALL_SCRATCH } from './conv_small';
import { setData, setOutputs, setTraining, setTargets } from './context';
import { runShare, rowReduce, setShareThread, gTid, gThreads, SHARE_SCRATCH, OP_WORDS, SYNC_WORD, SYNC_BARRIER, SINGLE, OP_ROW_REDUCE } from './threads_share';

export const GEN: usize = 0;
export const DONE: usize = 64;
export const BAR_N: usize = 128;
export const BAR_GEN: usize = 192;
const BAR_SLEEPERS: usize = 196; // threads asleep in a barrier's atomic.wait
export const ABORT: usize = 256;
export const CMD: usize = 320;
export const ARGS: usize = 324; // i32 arguments
export const F64S: usize = 384; // f64 arguments
export const CTRL_BYTES: i32 = 448;
export const CMD_TRAIN = 1;
export const CMD_INFER = 2;
export const CMD_EXIT = 3;

// Barrier polls before sleeping in atomic.wait.
const SPIN = 20000;

let gCtrl: usize = 0;
let gTrapStep: i32 = -1;

const RECORD_BYTES: i32 = OP_WORDS * 4;
const SCRATCH_IDX = 0;
const SCRATCH_COL = IDX_CAP * 4;
const SCRATCH_AUX = SCRATCH_COL + COL_FLOATS * 4;
const SCRATCH_SMALL = SCRATCH_AUX + AUX_FLOATS * 4;
const SCRATCH_SHARE = SCRATCH_SMALL + SMALL_SCRATCH;

/** Bytes of per-thread scratch (the static scratch of dense, conv and conv_small, and threads_share's). */
export function threadScratchBytes(): i32 {
  return SCRATCH_SHARE + SHARE_SCRATCH;
}

function useScratch(s: usize, tid: i32, threads: i32): void {
  setDenseScratch(s + SCRATCH_IDX);
  setConvScratch(s + SCRATCH_COL, s + SCRATCH_AUX);
  setSmallScratch(s + SCRATCH_SMALL);
  setShareThread(tid, threads, s + SCRATCH_SHARE);
}

// @ts-ignore: decorator
@inline function w(op: usize, i: i32): i32 { return load<i32>(op + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function p(op: usize, i: i32): usize { return <usize>load<u32>(op + (<usize>i << 2)); }

function barrier(): void {
  const c = gCtrl;
  const g = atomic.load<i32>(c + BAR_GEN);
  if (atomic.add<i32>(c + BAR_N, 1) == gThreads - 1) {
    atomic.store<i32>(c + BAR_N, 0);
    atomic.store<i32>(c + BAR_GEN, g + 1);
    // Only a sleeper needs the (costlier) notify; one that has not slept yet sees the new generation.
    if (atomic.load<i32>(c + BAR_SLEEPERS) != 0) atomic.notify(c + BAR_GEN, gThreads);
    return;
  }
  for (let i = 0; i < SPIN; i++) if (atomic.load<i32>(c + BAR_GEN) != g) return;
  atomic.add<i32>(c + BAR_SLEEPERS, 1);
  while (atomic.load<i32>(c + BAR_GEN) == g) {
    if (atomic.load<i32>(c + ABORT) != 0) unreachable(); // another worker failed: leave
    atomic.wait<i32>(c + BAR_GEN, g, 20_000_000); // 20 ms, then look at ABORT again
  }
  atomic.sub<i32>(c + BAR_SLEEPERS, 1);
}

function runOpsShared(plan: usize, nOps: i32, start: i32, rows: i32, step: i32): void {
  for (let o = 0; o < nOps; o++) {
    const op = plan + <usize>(o * RECORD_BYTES);
    const sync = load<i32>(op + (<usize>SYNC_WORD << 2));
    if (sync & SYNC_BARRIER) barrier();
    const how = sync & 15;
    if (how != SINGLE) runShare(op, how, sync >>> 8, rows, start, step);
    else if (gTid == 0) {
      if (load<i32>(op) == OP_ROW_REDUCE) rowReduce(op, rows);
      else dispatch(op, rows, start, step);
    }
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
  gCtrl = ctrl; gTrapStep = trapStep;
  useScratch(scratch, tid, threads);
  let seen = 0;
  while (true) {
    while (atomic.load<i32>(ctrl + GEN) == seen) atomic.wait<i32>(ctrl + GEN, seen, -1);
    seen = atomic.load<i32>(ctrl + GEN);
    const cmd = atomic.load<i32>(ctrl + CMD);
    if (cmd == CMD_EXIT) return;
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
