// Where a Graph lives on the GPU. One storage buffer per per-row slot of the
// graph (sized for graph.batchSize), and four "arenas" with identical
// layouts for the parameters, their gradients and the two Adam moments (each
// parameter 256-byte aligned, padding zero), plus the batch labels, the
// per-step context records and the metrics accumulators. Everything is
// allocated once per prepare(). Browser-safe.

import type { Graph } from '../graph.js';
import { CTX_STRIDE } from './kernels.js';

/** Context records per upload (a chunk of steps or evaluation batches). */
export const CTX_RECORDS = 512;
const PARAM_ALIGN_FLOATS = 64; // 256 bytes: the default minStorageBufferOffsetAlignment
const METRIC_BYTES = 16;

interface Range { buffer: GPUBuffer; offset: number; size: number }

const align = (n: number, a: number) => Math.ceil(n / a) * a;

export class GraphMemory {
  private owned: GPUBuffer[] = [];
  private ranges = new Map<string, Range>();
  readonly arenas: { params: GPUBuffer; grads: GPUBuffer; m: GPUBuffer; v: GPUBuffer; floats: number; offsets: number[] };
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
    const offsets: number[] = [];
    let floats = 0;
    for (const p of graph.params) {
      offsets.push(floats);
      floats += align(p.size, PARAM_ALIGN_FLOATS);
    }
    floats = Math.max(floats, PARAM_ALIGN_FLOATS);
    this.arenas = {
      params: this.buffer('params', floats * 4, usage),
      grads: this.buffer('grads', floats * 4, usage),
      m: this.buffer('adam m', floats * 4, usage),
      v: this.buffer('adam v', floats * 4, usage),
      floats, offsets,
    };
    const paramIndex = new Map(graph.params.map((p, i) => [p.name, i]));
    for (const b of graph.buffers) {
      if (b.perRow) {
        this.ranges.set(b.name, { buffer: slotBuffers[b.slot]!, offset: 0, size: Math.max(16, b.floats * B * 4) });
        continue;
      }
      const base = b.kind === 'param' ? b.name : b.name.replace(/:(grad|m|v)$/, '');
      const i = paramIndex.get(base);
      if (i === undefined) throw new Error(`webgpu: graph buffer '${b.name}' belongs to no parameter`);
      const arena = b.kind === 'param' ? this.arenas.params : b.kind === 'grad' ? this.arenas.grads : b.kind === 'adam_m' ? this.arenas.m : this.arenas.v;
      // Padded to whole vec4s: the padding is zero and stays zero under Adam.
      this.ranges.set(b.name, { buffer: arena, offset: offsets[i]! * 4, size: align(b.floats, 4) * 4 });
    }
    this.labels = this.buffer('labels', Math.max(16, B * 4), usage);
    this.ctx = this.buffer('step context', CTX_RECORDS * CTX_STRIDE, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.trainMetrics = this.buffer('train metrics', METRIC_BYTES, usage);
    this.evalMetrics = this.buffer('eval metrics', METRIC_BYTES, usage);
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

  /** A writable buffer for an output binding that a variant does not write (a storage binding must be given). */
  scratch(): GPUBufferBinding {
    return { buffer: (this.scratchBuffer ??= this.buffer('scratch', 16, GPUBufferUsage.STORAGE)) };
  }

  /** Where a graph buffer lives, for reads (test hook). */
  locate(name: string): Range | undefined {
    return this.ranges.get(name);
  }

  destroy(): void {
    for (const b of this.owned) b.destroy();
    this.owned = [];
    this.ranges.clear();
  }
}
