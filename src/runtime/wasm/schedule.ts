// The threaded plan (issue 14): how each record of a wasm plan splits across
// the worker threads, in what order the records run, and before which ones
// the threads meet at a barrier. kernels/as/threads_share.ts runs a share of
// each split mode; this file decides, from what every record reads and
// writes, in which byte ranges, on which thread:
//
//   'one'    thread 0 alone (a record that does not split)
//   'all'    any thread may read any of it (a matmul's weights)
//   keyed    each thread its own part, the same parts for the same key:
//            `rows:<buffer>` for examples share(rows, 4), `cols:`, …
//   spans    each thread one byte range that does not depend on the batch
//            rows (dW rows, an optimizer's floats), compared exactly
//
// A barrier goes before a record only where it touches (one of the two
// writing) bytes that another thread touched since the last barrier. So a
// chain of per-example ops (gather, dense on rows, dropout, activations,
// the loss, their gradients) runs with no barrier at all, each thread on its
// own examples, and Adam follows the dW rows of its own thread. Records are
// reordered where nothing they touch forbids it, so that one barrier serves
// every record that needs one (dW of both dense layers after one barrier).
// A loss split by rows writes its row losses into a row scratch; a
// ROW_REDUCE record, placed after a later barrier, sums them on thread 0 in
// row order. The numbers never depend on this file: each output element is
// computed by one thread in the single-thread order.

import { defOf } from '../../ops/index.js';
import { LABELS_BUFFER } from '../../ops/gather.js';
import type { Graph, Op } from '../graph.js';
import { COLUMN_KINDS, PARAM_KINDS, ROW_KINDS, rowLoss } from './split-kinds.js';

export const SYNC_WORD = 15;
export const SCRATCH_WORD = 14;
const SYNC_BARRIER = 16;
const SYNC_TABLE = 32;
const OP_ROW_REDUCE = 127;
const SINGLE = 0, COLS = 1, ROWS = 2, RANGE = 3, RECORD_ROWS = 4, PARAM_RANGE = 5, CONV_AUTO = 6;
const LOSS_SLOTS_WORD = 13;

/** Below these sizes (multiply-adds, floats) an op that cannot run on the threads' own rows stays on thread 0. */
const MIN_MACS = 65536;
const MIN_ELEMS = 8192;
/** Examples share in units of 4 (the matmuls' 4-row tiles stay whole, as on one thread). */
const ROW_ALIGN = 4;

/** A record of the plan: the graph op it encodes (a plan helper: its kind and fields) and its words. */
export interface PlanRecord { op: { kind: string } & Record<string, unknown>; words: number[] }

export interface ThreadPlanContext {
  threads: number;
  /** The batch size (per-row buffers hold this many rows). */
  batch: number;
  graph: Graph;
  /** Byte offset and bytes of a graph buffer. */
  ptr(name: string): number;
  bytes(name: string): number;
  /** Where gather writes the batch's labels (u32 per row). */
  labels: number;
  /** Memory for a row-split loss's row scratch (16 bytes per row) and the row tables. */
  alloc(bytes: number): number;
  /** Writes i32 words at a byte offset. */
  write(at: number, words: readonly number[]): void;
}

type Part = { kind: 'one' } | { kind: 'all' } | { kind: 'keyed'; key: string } | { kind: 'spans'; spans: [number, number][] };
interface Access { start: number; end: number; write: boolean; part: Part }
interface Choice { mode: number; align: number; accesses: Access[]; scratch?: boolean }

// Pseudo buffers (no real bytes): the metrics the loss ops add to, and predict's probabilities.
const METRICS: [number, number] = [-64, -32];
const PROBS: [number, number] = [-32, -16];

/** This thread's share [lo, hi) of `total` in units of `align` (kernels/as/threads_share.ts share()). */
export function share(total: number, align: number, tid: number, threads: number): [number, number] {
  const units = Math.ceil(total / align);
  return [Math.min(total, Math.floor((units * tid) / threads) * align), Math.min(total, Math.floor((units * (tid + 1)) / threads) * align)];
}

function overlaps(a: Access, b: Access): boolean {
  return a.start < b.end && b.start < a.end;
}

/** Whether two accesses to overlapping bytes (one a write) may run on the threads without a barrier between them. */
function compatible(a: Part, b: Part): boolean {
  if (a.kind === 'one' && b.kind === 'one') return true;
  if (a.kind === 'keyed' && b.kind === 'keyed') return a.key === b.key;
  if (a.kind === 'spans' && b.kind === 'spans') {
    for (let t = 0; t < a.spans.length; t++) {
      for (let u = 0; u < b.spans.length; u++) {
        if (t === u) continue;
        const [s1, e1] = a.spans[t]!, [s2, e2] = b.spans[u]!;
        if (s1 < e1 && s2 < e2 && s1 < e2 && s2 < e1) return false;
      }
    }
    return true;
  }
  if (a.kind === 'one' && b.kind === 'spans') return b.spans.every(([s, e], u) => u === 0 || s >= e);
  if (b.kind === 'one' && a.kind === 'spans') return compatible(b, a);
  return false;
}

function conflicts(live: readonly Access[], accesses: readonly Access[]): boolean {
  for (const x of accesses) for (const y of live) if ((x.write || y.write) && overlaps(x, y) && !compatible(x.part, y.part)) return true;
  return false;
}

class Planner {
  private readonly perRow = new Map<string, number>();
  /** Floats per example of the per-row buffer that starts at a byte offset. */
  private readonly rowsAt = new Map<number, number>();
  private readonly T: number;
  private readonly B: number;

  constructor(private readonly c: ThreadPlanContext) {
    this.T = c.threads;
    this.B = c.batch;
    for (const b of c.graph.buffers) if (b.perRow) { this.perRow.set(b.name, b.floats * 4); this.rowsAt.set(c.ptr(b.name), b.floats); }
    this.perRow.set(LABELS_BUFFER, 4);
  }

  private range(name: string): [number, number] {
    if (name === LABELS_BUFFER) return [this.c.labels, this.c.labels + 4 * this.B];
    const s = this.c.ptr(name);
    return [s, s + this.c.bytes(name)];
  }

  /** The bytes a record reads and writes, by buffer: [start, end, write, name]. */
  private touched(r: PlanRecord): { start: number; end: number; write: boolean; name: string }[] {
    const op = r.op;
    if (op.kind === 'transpose') {
      const k = op.k as number, n = op.n as number;
      return [{ start: r.words[1]!, end: r.words[1]! + 4 * k * n, write: false, name: op.w as string }, { start: r.words[2]!, end: r.words[2]! + 4 * k * n, write: true, name: '' }];
    }
    if (op.kind === 'row_reduce') return [];
    const def = defOf(op as unknown as Op);
    const { reads, writes } = def.buffers(op as never);
    const out: { start: number; end: number; write: boolean; name: string }[] = [];
    for (const [names, write] of [[reads, false], [writes, true]] as const) {
      for (const name of names) {
        if (op.kind === 'dense_backward_input' && name === op.w) {
          // It reads the transposed copy (record word 2), which the transpose helper writes.
          const wt = r.words[2]!;
          out.push({ start: wt, end: wt + 4 * (op.k as number) * (op.n as number), write, name: '' });
          continue;
        }
        const [start, end] = this.range(name);
        out.push({ start, end, write, name });
      }
    }
    if (def.wasm.args.includes('gMetrics')) out.push({ start: METRICS[0], end: METRICS[1], write: true, name: '' });
    if (def.wasm.guard?.then.includes('gProbs')) out.push({ start: PROBS[0], end: PROBS[1], write: true, name: '' });
    return out;
  }

  /** [count, (word, floats per example) …] of the record words that point at a per-row buffer (the labels: 1 u32 each). */
  private rowTable(r: PlanRecord): number[] {
    const fields = defOf(r.op as unknown as Op).wasm.fields;
    const entries: number[] = [];
    fields.forEach(([, type], i) => {
      const v = r.words[i + 1]!;
      if (type !== 'ptr' || !v) return;
      const floats = v === this.c.labels ? 1 : this.rowsAt.get(v);
      if (floats !== undefined) entries.push(i + 1, floats);
    });
    return [entries.length / 2, ...entries];
  }

  private spansOf(base: number, total: number, align: number, unitBytes: number): Part {
    return { kind: 'spans', spans: Array.from({ length: this.T }, (_, t) => { const [lo, hi] = share(total, align, t, this.T); return [base + lo * unitBytes, base + hi * unitBytes] as [number, number]; }) };
  }

  private single(r: PlanRecord): Choice {
    return { mode: SINGLE, align: 0, accesses: this.touched(r).map((x) => ({ ...x, part: { kind: 'one' } as Part })) };
  }

  /** COLS of the ops whose batch sums split by columns: what each thread touches (threads_share.ts colsShare). */
  private columns(r: PlanRecord, touched: ReturnType<Planner['touched']>): Choice {
    const op = r.op;
    const named = (name: unknown, part: Part) => touched.filter((x) => x.name === name).map((x) => ({ ...x, part }));
    const reads = touched.filter((x) => !x.write).map((x) => ({ ...x, part: { kind: 'all' } as Part }));
    const at = (name: unknown) => this.c.ptr(name as string);
    const accesses: Access[] = [...reads];
    if (op.kind === 'layer_norm_backward') {
      const D = op.dim as number;
      accesses.push(...named(op.dx, { kind: 'keyed', key: `rows:${at(op.dx)}:${this.perRow.get(op.dx as string)}` }));
      for (const g of [op.dgamma, op.dbeta]) if (g) accesses.push(...named(g, this.spansOf(at(g), D, 4, 4)));
    } else if (op.kind === 'embedding_backward') {
      accesses.push(...named(op.dtable, this.spansOf(at(op.dtable), op.vocab as number, 1, 4 * (op.dim as number))));
    } else if (op.kind === 'position_embedding_backward') {
      accesses.push(...named(op.dp, this.spansOf(at(op.dp), (op.positions as number) * (op.dim as number), 4, 4)));
    } else {
      // Batch normalization by channels share(C, 4): per-channel columns of x/y/dx and of the stats rows, spans of the [C] vectors.
      const C = op.channels as number;
      for (const x of touched.filter((t) => t.write)) {
        const perChannel = x.end - x.start === 4 * C;
        accesses.push({ ...x, part: perChannel ? this.spansOf(x.start, C, 4, 4) : { kind: 'keyed', key: `chan:${x.start}` } });
      }
      if (op.kind === 'batch_norm_backward') accesses.push(...named(op.stats, { kind: 'keyed', key: `chan:${at(op.stats)}` }).map((x) => ({ ...x, write: true })));
    }
    // A read of a buffer the op also writes keeps only the write's partition (its own columns).
    const written = new Set(accesses.filter((x) => x.write).map((x) => x.start));
    return { mode: COLS, align: 4, accesses: accesses.filter((x) => x.write || !written.has(x.start)) };
  }

  /** The split modes a record may run in, best first (SINGLE always last). */
  candidates(r: PlanRecord): Choice[] {
    const op = r.op, T = this.T, B = this.B;
    const out: Choice[] = [];
    const touched = this.touched(r);
    if (op.kind === 'row_reduce') {
      return [{ mode: SINGLE, align: 0, accesses: [{ start: op.scratch as number, end: (op.scratch as number) + 16 * B * (op.entries as number), write: false, part: { kind: 'one' } }, { start: METRICS[0], end: METRICS[1], write: true, part: { kind: 'one' } }] }];
    }
    const loss = rowLoss(op);
    if ((ROW_KINDS.has(op.kind) || loss) && B >= 2 * ROW_ALIGN) {
      const isLoss = loss !== null;
      const accesses: Access[] = [];
      let ok = true;
      for (const x of touched) {
        if (x.start === METRICS[0]) continue; // a row-split loss writes its row scratch instead
        if (x.start === PROBS[0]) { accesses.push({ ...x, part: { kind: 'keyed', key: 'rows:probs' } }); continue; }
        const e = this.perRow.get(x.name);
        if (e !== undefined) accesses.push({ ...x, part: { kind: 'keyed', key: `rows:${x.start}:${e}` } });
        else if (!x.write) accesses.push({ ...x, part: { kind: 'all' } });
        else ok = false;
      }
      if (touched.some((x) => x.start === METRICS[0]) && !isLoss) ok = false;
      if (ok && isLoss) {
        // Its row scratch (loss column, then correct column), and no other mode: its ROW_REDUCE expects the scratch filled.
        const scratch = r.words[SCRATCH_WORD], n = B * loss.entries;
        if (scratch) for (const at of [scratch, scratch + 8 * n]) accesses.push({ start: at, end: at + 8 * n, write: true, part: { kind: 'keyed', key: `rows:${at}:${8 * loss.entries}` } });
        return [{ mode: RECORD_ROWS, align: ROW_ALIGN, accesses, scratch: true }];
      }
      if (ok) out.push({ mode: RECORD_ROWS, align: ROW_ALIGN, accesses });
    }
    const w = r.words;
    if (op.kind === 'dense_forward' || op.kind === 'dense_backward_input') {
      const seq = (op.seq as number | undefined) ?? 1, K = op.k as number, N = op.n as number;
      const cols = op.kind === 'dense_forward' ? N : K;
      if (B * seq * K * N >= MIN_MACS && cols >= 8 * T) {
        const outName = op.kind === 'dense_forward' ? op.y : op.dx;
        out.push({ mode: COLS, align: 8, accesses: touched.map((x) => ({ ...x, part: x.write ? { kind: 'keyed', key: `cols:${x.start}:${outName}` } : { kind: 'all' } })) });
      }
    }
    if (op.kind === 'dense_backward_weights') {
      const seq = (op.seq as number | undefined) ?? 1, K = op.k as number, N = op.n as number;
      if (K >= 4 * T) {
        const accesses = touched.map((x): Access => {
          if (!x.write) return { ...x, part: { kind: 'all' } };
          return { ...x, part: x.name === op.dw ? this.spansOf(x.start, K, 4, 4 * N) : this.spansOf(x.start, N, 4, 4) };
        });
        out.push({ mode: ROWS, align: 4, accesses });
        // Small: thread 0, unless that needs a barrier and the split does not (a quarter of MIN_MACS still pays for splitting).
        if (B * seq * K * N < MIN_MACS / 4) out.unshift(this.single(r));
      }
    }
    if (op.kind === 'transpose') {
      const k = op.k as number, n = op.n as number;
      if (k >= 4 * T) {
        out.push({ mode: ROWS, align: 4, accesses: [{ ...touched[0]!, part: this.spansOf(w[1]!, k, 4, 4 * n) }, { ...touched[1]!, part: { kind: 'keyed', key: `tcols:${w[2]}` } }] });
        if (k * n < MIN_ELEMS) out.unshift(this.single(r));
      }
    }
    if (op.kind === 'conv2d_backward_weights') {
      out.push({ mode: CONV_AUTO, align: 0, accesses: touched.map((x) => ({ ...x, part: x.write ? { kind: 'keyed', key: `convdw:${w[3]}` } : { kind: 'all' } })) });
    }
    if (PARAM_KINDS.has(op.kind)) {
      const n = op.size as number;
      const param = this.c.graph.params.find((p) => p.name === (op.param ?? op.p ?? op.g));
      const last = param?.shape[param.shape.length - 1] ?? 1;
      // Alignments that make the shares the dW rows' or columns' of the gradient's writer: then no barrier between them.
      const aligns = [...new Set([16, 4 * last, last, 4].filter((a) => a % 4 === 0 && a > 0))];
      const mode = op.kind === 'adam' ? RANGE : PARAM_RANGE;
      const elementwise = touched.every((x) => x.end - x.start === 4 * n || !x.write);
      for (const al of aligns) {
        if (!elementwise) break;
        out.push({ mode, align: al, accesses: touched.map((x) => ({ ...x, part: x.end - x.start === 4 * n ? this.spansOf(x.start, n, al, 4) : { kind: 'all' } as Part })) });
      }
      if (n < MIN_ELEMS) out.unshift(this.single(r)); // small: thread 0, unless that needs a barrier and a share does not
    }
    if (COLUMN_KINDS.has(op.kind) && B >= 2 * ROW_ALIGN) out.push(this.columns(r, touched));
    out.push(this.single(r));
    return out;
  }

  /** Mode, alignment and scratch of every record, in the order they run, and the barriers. */
  schedule(records: PlanRecord[]): number[][] {
    // A row-split loss gets its ROW_REDUCE record right after it (the scheduler moves it to a barrier).
    const all: PlanRecord[] = [];
    const tables = new Set<PlanRecord>();
    for (const r of records) {
      all.push(r);
      const loss = rowLoss(r.op);
      r.words = [...r.words];
      if (loss && this.candidates(r)[0]!.mode === RECORD_ROWS) {
        const scratch = this.c.alloc(16 * this.B * loss.entries);
        if (r.words.length > LOSS_SLOTS_WORD) throw new Error(`wasm threads: ${r.op.kind} record too long for a row scratch`);
        while (r.words.length <= SCRATCH_WORD) r.words.push(0);
        r.words[SCRATCH_WORD] = scratch;
        r.words[LOSS_SLOTS_WORD] = (loss.temp[0] + 1) | ((loss.temp[1] + 1) << 8);
        all.push({ op: { kind: 'row_reduce', scratch, entries: loss.entries }, words: [OP_ROW_REDUCE, scratch, ...loss.reduce] });
      } else if (ROW_KINDS.has(r.op.kind) && r.words.length <= SCRATCH_WORD) {
        // The row table [count, (word, floats per example) …]: which record words point at per-row buffers.
        const table = this.rowTable(r);
        const at = this.c.alloc(4 * table.length);
        this.c.write(at, table);
        while (r.words.length <= SCRATCH_WORD) r.words.push(0);
        r.words[SCRATCH_WORD] = at;
        tables.add(r);
      }
    }
    const cands = all.map((r) => this.candidates(r));
    // What each record touches in any of its modes (the row scratch included): what orders them.
    const touched = cands.map((cs) => cs.flatMap((c) => c.accesses));
    const deps = all.map((_, j) => {
      const d: number[] = [];
      for (let i = 0; i < j; i++) if (touched[j]!.some((x) => touched[i]!.some((y) => (x.write || y.write) && overlaps(x, y)))) d.push(i);
      return d;
    });
    const done = new Array<boolean>(all.length).fill(false);
    const order: { i: number; choice: Choice; barrier: boolean }[] = [];
    let live: Access[] = [];
    while (order.length < all.length) {
      const ready = all.map((_, i) => i).filter((i) => !done[i] && deps[i]!.every((d) => done[d]));
      let pick: { i: number; choice: Choice } | null = null;
      for (const i of ready) {
        const choice = cands[i]!.find((c) => !conflicts(live, c.accesses));
        if (choice) { pick = { i, choice }; break; }
      }
      let barrier = false;
      if (!pick) {
        barrier = true;
        live = [];
        const i = ready[0]!;
        // After a barrier: the best split, or thread 0 for a small optimizer (its first candidate).
        pick = { i, choice: cands[i]![0]! };
      }
      done[pick.i] = true;
      order.push({ ...pick, barrier });
      live.push(...pick.choice.accesses);
    }
    // The plan repeats (steps, batches): a record near the start may meet what the end of the plan left.
    for (let pass = 0; pass < order.length + 1; pass++) {
      const carried = liveAtEnd(order);
      let changed = false;
      for (const o of order) {
        if (o.barrier) break;
        if (conflicts(carried, o.choice.accesses)) { o.barrier = true; changed = true; break; }
        carried.push(...o.choice.accesses);
      }
      if (!changed) break;
    }
    return order.map(({ i, choice, barrier }) => {
      const words = [...all[i]!.words];
      if (words.length > SYNC_WORD) throw new Error(`wasm threads: ${all[i]!.op.kind} record too long for the sync word`);
      while (words.length <= SYNC_WORD) words.push(0);
      words[SYNC_WORD] = choice.mode | (barrier ? SYNC_BARRIER : 0) | (tables.has(all[i]!) ? SYNC_TABLE : 0) | (choice.align << 8);
      return words;
    });
  }
}

function liveAtEnd(order: readonly { choice: Choice; barrier: boolean }[]): Access[] {
  let start = 0;
  order.forEach((o, k) => { if (o.barrier) start = k; });
  return order.slice(start).flatMap((o) => o.choice.accesses);
}

/** The records of a plan, reordered and with their sync words, for `threads` > 1 threads. */
export function scheduleThreads(records: PlanRecord[], c: ThreadPlanContext): number[][] {
  return new Planner(c).schedule(records.map((r) => ({ ...r })));
}

/** Records, split records and barriers of a packed plan (OP_WORDS words a record). */
export function planStats(words: Int32Array): { records: number; split: number; barriers: number } {
  let split = 0, barriers = 0;
  const records = words.length / 16;
  for (let i = 0; i < records; i++) {
    const sync = words[i * 16 + SYNC_WORD]!;
    if (sync & SYNC_BARRIER) barriers++;
    if ((sync & 15) !== SINGLE) split++;
  }
  return { records, split, barriers };
}
