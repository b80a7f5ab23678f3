// Where a Graph lives on the GPU. One storage buffer per per-row slot of the
// graph (sized for graph.batchSize), and "arenas" with identical layouts for
// the parameters, their gradients and each of the optimizer's state buffers
// (arena k holds state k of every parameter, e.g. Adam's m and v; each
// parameter 256-byte aligned, padding zero), plus the batch labels, the
// per-step context records and the metrics accumulators. Non-trainable
// weights (moving statistics) sit in the params arena after every trainable
// one, so the trainable parameters stay one span (the fused update
// dispatch); their ranges in the other arenas are unused. Batch statistics (kind
// batch_stat, gradient sums of squares grad_norm) get a buffer each. Everything is
// allocated once per prepare(). Browser-safe.

import type { Graph } from '../graph.js';
import type { GpuSession } from './device.js';
import { CTX_STRIDE } from './kernels.js';

/** Context records per upload (a chunk of steps or evaluation batches). */
export const CTX_RECORDS = 512;
const PARAM_ALIGN_FLOATS = 64; // 256 bytes: the default minStorageBufferOffsetAlignment
/**
 * The metrics buffers: the loss op's 16 bytes (loss sum in fixed point,
 * correct count, rows) at 0, then metric op k's 16 bytes (its sum in fixed
 * point) at (k + 1) strides, a stride being the storage offset alignment.
 */
export function metricOffset(device: GPUDevice, accumulator: number | undefined): number {
  return accumulator === undefined ? 0 : (accumulator + 1) * device.limits.minStorageBufferOffsetAlignment;
}

interface Range { buffer: GPUBuffer; offset: number; size: number }

const align = (n: number, a: number) => Math.ceil(n / a) * a;

export class GraphMemory {
  private owned: GPUBuffer[] = [];
  private ranges = new Map<string, Range>();
  readonly arenas: { params: GPUBuffer; grads: GPUBuffer; state: GPUBuffer[]; floats: number; offsets: number[] };
  readonly labels: GPUBuffer;
  readonly ctx: GPUBuffer;
  readonly trainMetrics: GPUBuffer;
  readonly evalMetrics: GPUBuffer;
  private unusedBuffer: GPUBuffer | null = null;
  private scratchBuffer: GPUBuffer | null = null;

  constructor(readonly device: GPUDevice, readonly graph: Graph) {
    const B = graph.batchSize;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const slotBuffers = graph.slots.map((s, i) => (s.perRow ? this.buffer(`slot ${i}`, Math.max(16, s.floats * B * 4), usage) : null));
    const offsets: number[] = new Array(graph.params.length);
    let floats = 0;
    for (const trainable of [true, false]) {
      graph.params.forEach((p, i) => {
        if (p.trainable !== trainable) return;
        offsets[i] = floats;
        floats += align(p.size, PARAM_ALIGN_FLOATS);
      });
    }
    floats = Math.max(floats, PARAM_ALIGN_FLOATS);
    this.arenas = {
      params: this.buffer('params', floats * 4, usage),
      grads: this.buffer('grads', floats * 4, usage),
      state: Array.from({ length: Math.max(0, ...graph.params.map((p) => p.state.length)) }, (_, k) => this.buffer(`optimizer state ${k}`, floats * 4, usage)),
      floats, offsets,
    };
    // Which parameter (and which of its state buffers) a non-per-row buffer belongs to.
    const owner = new Map<string, { param: number; arena: GPUBuffer }>();
    graph.params.forEach((p, i) => {
      owner.set(p.name, { param: i, arena: this.arenas.params });
      owner.set(p.grad, { param: i, arena: this.arenas.grads });
      p.state.forEach((s, k) => owner.set(s, { param: i, arena: this.arenas.state[k]! }));
    });
    for (const b of graph.buffers) {
      if (b.perRow) {
        this.ranges.set(b.name, { buffer: slotBuffers[b.slot]!, offset: 0, size: Math.max(16, b.floats * B * 4) });
        continue;
      }
      if (b.kind === 'batch_stat' || b.kind === 'grad_norm') {
        this.ranges.set(b.name, { buffer: this.buffer(b.name, align(b.floats, 4) * 4, usage), offset: 0, size: align(b.floats, 4) * 4 });
        continue;
      }
      const o = owner.get(b.name);
      if (o === undefined) throw new Error(`webgpu: graph buffer '${b.name}' belongs to no parameter`);
      // Padded to whole vec4s: the padding is zero and stays zero under every update.
      this.ranges.set(b.name, { buffer: o.arena, offset: offsets[o.param]! * 4, size: align(b.floats, 4) * 4 });
    }
    this.labels = this.buffer('labels', Math.max(16, B * 4), usage);
    this.ctx = this.buffer('step context', CTX_RECORDS * CTX_STRIDE, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    const metricBytes = metricOffset(device, graph.metricAccumulators - 1) + 16;
    this.trainMetrics = this.buffer('train metrics', metricBytes, usage);
    this.evalMetrics = this.buffer('eval metrics', metricBytes, usage);
  }

  /** The binding of an accumulator (none: the loss op's) of a metrics buffer. */
  metricRange(buffer: GPUBuffer, accumulator?: number): GPUBufferBinding {
    return { buffer, offset: metricOffset(this.device, accumulator), size: 16 };
  }

  /** Reads, then zeroes, a metrics buffer: the loss op's sums and each metric op's sum (fixed point, 2^-24). */
  async takeMetrics(session: GpuSession, buffer: GPUBuffer, what: string): Promise<{ lossSum: number; correct: number; sums: number[] }> {
    const words = await session.readU32(buffer, 0, buffer.size / 4, what);
    this.device.queue.writeBuffer(buffer, 0, new Uint32Array(buffer.size / 4));
    const fixed = (at: number) => words[at]! + words[at + 1]! / 16777216;
    const sums = Array.from({ length: this.graph.metricAccumulators }, (_, k) => fixed(metricOffset(this.device, k) / 4));
    return { lossSum: fixed(0), correct: words[2]!, sums };
  }

  buffer(label: string, size: number, usage: number): GPUBuffer {
    const b = this.device.createBuffer({ label: `tessera ${label}`, size: align(size, 4), usage });
    this.owned.push(b);
    return b;
  }

  /** The binding of a graph buffer; null gives a small buffer for a binding the kernel variant ignores. */
  range(name: string | null): GPUBufferBinding {
    if (name === null) return { buffer: (this.unusedBuffer ??= this.buffer('unused', 16, GPUBufferUsage.STORAGE)) };
    const r = this.ranges.get(name);
    if (!r) throw new Error(`webgpu: graph buffer '${name}' was not allocated`);
    return { buffer: r.buffer, offset: r.offset, size: r.size };
  }

  /** One binding over buffers that lie in one GPU buffer in this order, each starting where the previous one's 256-byte-aligned range ends (the arenas). */
  span(names: readonly string[]): GPUBufferBinding | null {
    const rs = names.map((n) => this.ranges.get(n));
    if (!rs.length || rs.some((r) => !r || r.buffer !== rs[0]!.buffer)) return null;
    for (let i = 1; i < rs.length; i++) if (rs[i]!.offset !== align(rs[i - 1]!.offset + rs[i - 1]!.size, PARAM_ALIGN_FLOATS * 4)) return null;
    const first = rs[0]!, last = rs[rs.length - 1]!;
    return { buffer: first.buffer, offset: first.offset, size: align(last.offset + last.size, PARAM_ALIGN_FLOATS * 4) - first.offset };
  }

  /** A writable buffer for an output binding that a variant does not write (a storage binding must be given). */
  scratch(): GPUBufferBinding {
    return { buffer: (this.scratchBuffer ??= this.buffer('scratch', 16, GPUBufferUsage.STORAGE)) };
  }

  /** The parameters, graph.params order (copies). */
  async readParams(session: GpuSession): Promise<Float32Array[]> {
    const { arenas } = this;
    const all = await session.readF32(arenas.params, 0, arenas.floats, 'readParams');
    return this.graph.params.map((p, i) => all.slice(arenas.offsets[i], arenas.offsets[i]! + p.size));
  }

  writeParams(params: Float32Array[]): void {
    const { arenas } = this;
    this.graph.params.forEach((p, i) => {
      const v = params[i];
      if (!v || v.length !== p.size) throw new Error(`parameter ${p.name}: expected ${p.size} values, got ${v?.length}`);
      this.device.queue.writeBuffer(arenas.params, arenas.offsets[i]! * 4, v.buffer, v.byteOffset, p.size * 4);
    });
  }

  /** Zero the optimizer's state (every state arena). */
  clearOptimizerState(): void {
    const enc = this.device.createCommandEncoder();
    for (const a of this.arenas.state) enc.clearBuffer(a);
    this.device.queue.submit([enc.finish()]);
  }

  /** The range and size of a whole-model (not per-row) buffer. */
  private whole(name: string): { r: Range; floats: number } {
    const r = this.ranges.get(name);
    const info = this.graph.buffers.find((b) => b.name === name);
    if (!r || !info) throw new Error(`webgpu: graph buffer '${name}' was not allocated`);
    if (info.perRow) throw new Error(`webgpu: graph buffer '${name}' is per-row; only whole-model buffers can be read or written by name`);
    return { r, floats: info.floats };
  }

  /**
   * Copies of whole-model buffers by name: one read-back per GPU buffer they
   * lie in (an arena holds many), each buffer cut out of it.
   */
  async readWholeBuffers(session: GpuSession, names: readonly string[]): Promise<Float32Array[]> {
    const wanted = names.map((n) => this.whole(n));
    const out: Float32Array[] = new Array(names.length);
    const byBuffer = new Map<GPUBuffer, number[]>();
    wanted.forEach((w, i) => byBuffer.set(w.r.buffer, [...(byBuffer.get(w.r.buffer) ?? []), i]));
    for (const [buffer, idx] of byBuffer) {
      const lo = Math.min(...idx.map((i) => wanted[i]!.r.offset));
      const hi = Math.max(...idx.map((i) => wanted[i]!.r.offset + wanted[i]!.floats * 4));
      const all = await session.readF32(buffer, lo, (hi - lo) / 4, 'readBuffers');
      for (const i of idx) {
        const at = (wanted[i]!.r.offset - lo) / 4;
        out[i] = all.slice(at, at + wanted[i]!.floats);
      }
    }
    return out;
  }

  /** Overwrite whole-model buffers by name (their padding is left as it is: zero). */
  writeWholeBuffers(buffers: readonly { name: string; data: Float32Array }[]): void {
    for (const { name, data } of buffers) {
      const { r, floats } = this.whole(name);
      if (data.length !== floats) throw new Error(`graph buffer '${name}': expected ${floats} values, got ${data.length}`);
      this.device.queue.writeBuffer(r.buffer, r.offset, data.buffer, data.byteOffset, floats * 4);
    }
  }

  /** A copy of a graph buffer (per-row buffers hold batchSize rows; parameters their own size). */
  async readBuffer(session: GpuSession, name: string): Promise<Float32Array> {
    const r = this.ranges.get(name);
    const info = this.graph.buffers.find((b) => b.name === name);
    if (!r || !info) throw new Error(`webgpu: graph buffer '${name}' was not allocated`);
    return session.readF32(r.buffer, r.offset, info.perRow ? r.size / 4 : info.floats, `readBuffer ${name}`);
  }

  destroy(): void {
    for (const b of this.owned) b.destroy();
    this.owned = [];
    this.ranges.clear();
  }
}
