// Datasets resident on the GPU: uint8 images and labels uploaded once,
// packed four bytes to a u32 (WGSL has no 8-bit storage), float targets
// (where a dataset has them) as they are, the epoch's order buffer, and the
// gather dispatches of each. Browser-safe.
//
// Shards: one storage binding holds at most maxStorageBufferBindingSize
// bytes (128 MiB on most devices), so a set is split into shards of whole
// consecutive examples, each its own features, labels and targets buffers
// within that limit (and maxBufferSize). The backend gathers a batch with
// one dispatch per shard; each writes the batch rows whose example lies in
// its shard (planShards says which examples those are), so every row is
// written exactly once and the batch is the one the js and wasm backends
// gather. A set that fits one binding is one shard, bound as before.

import type { GpuDispatch } from '../../ops/types.js';
import type { DatasetTensors } from '../backend.js';
import { WebGpuError } from './errors.js';
import { bytesPerFeature, featureBytes } from '../../data/types.js';

/** Examples [first, first + count) of a resident set, in buffers of their own. */
export interface Shard {
  first: number; count: number;
  images: GPUBuffer; labels: GPUBuffer;
  /** The shard's float targets (null where the set has none). */
  targets: GPUBuffer | null;
}

export interface Resident {
  shards: Shard[]; count: number; features: number;
  /** Float targets per example (0: none). */
  targetWidth: number;
}

const align4 = (n: number) => Math.ceil(n / 4) * 4;

/**
 * How many examples one shard holds: as many whole examples as fit `limit`
 * bytes in each of its buffers (features, one label byte, targets). Throws
 * when not even one example fits.
 */
export function examplesPerShard(limit: number, bytesPerExample: number, targetBytesPerExample: number, slot: string, limitName = 'one WebGPU storage binding holds'): number {
  const usable = Math.floor(limit / 4) * 4; // buffer sizes are rounded up to 4 bytes
  const widest = Math.max(1, bytesPerExample, targetBytesPerExample);
  const per = Math.floor(usable / widest);
  // The data's or the settings' fault, not Tessera's: a user error (no stack trace).
  if (per < 1) throw Object.assign(new WebGpuError(`the ${slot} set's examples are ${widest} bytes each, more than ${limitName} (${limit} bytes)`), { isUserError: true });
  return per;
}

/** The shards of `count` examples, `per` to a shard: [first, count] pairs (one empty shard for an empty set). */
export function planShards(count: number, per: number): { first: number; count: number }[] {
  const out: { first: number; count: number }[] = [];
  for (let first = 0; first < count; first += per) out.push({ first, count: Math.min(per, count - first) });
  return out.length ? out : [{ first: 0, count: 0 }];
}

/**
 * Upload a dataset as shards (checked against its declared size). The
 * shard limit is the device's binding and buffer limits, or `shardBytes`
 * when smaller (tests force small shards with it).
 */
export function uploadDataset(device: GPUDevice, slot: string, data: DatasetTensors, shardBytes?: number): Resident {
  const bytes = featureBytes(data, data.count);
  if (data.images.length < bytes || data.labels.length < data.count) {
    throw new Error(`${slot} dataset: ${data.count} examples of ${data.features} features need ${bytes} feature bytes and ${data.count} labels, got ${data.images.length} and ${data.labels.length}`);
  }
  const width = data.targets && data.targetWidth ? data.targetWidth : 0;
  if (width && data.targets!.length < data.count * width) throw new Error(`${slot} dataset: ${data.count} examples of ${width} targets need ${data.count * width} floats, got ${data.targets!.length}`);
  const deviceLimit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  const limit = Math.min(deviceLimit, shardBytes ?? Infinity);
  const rowBytes = data.features * bytesPerFeature(data.dtype);
  const per = examplesPerShard(limit, rowBytes, width * 4, slot, limit < deviceLimit ? 'a shard of shardBytes (TESSERA_WEBGPU_SHARD_BYTES) holds' : undefined);
  // Mapped at creation and filled. Measured on Dawn's OpenGL ES adapter: two
  // 96 MiB buffers cost their 192 MiB of RSS this way, and peaked 96 MiB
  // higher when written with queue.writeBuffer in 16 MiB chunks.
  const make = (label: string, src: Uint8Array) => {
    const buf = device.createBuffer({ label: `tessera ${label}`, size: Math.max(16, align4(src.length)), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, mappedAtCreation: true });
    new Uint8Array(buf.getMappedRange()).set(src);
    buf.unmap();
    return buf;
  };
  const plan = planShards(data.count, per);
  const shards: Shard[] = [];
  try {
    for (const [i, { first, count }] of plan.entries()) {
      const name = plan.length > 1 ? `${slot} shard ${i + 1}/${plan.length}` : slot;
      const t = width ? data.targets!.subarray(first * width, (first + count) * width) : null;
      shards.push({
        first, count,
        images: make(`${name} images`, data.images.subarray(first * rowBytes, (first + count) * rowBytes)),
        labels: make(`${name} labels`, data.labels.subarray(first, first + count)),
        targets: t ? make(`${name} targets`, new Uint8Array(t.buffer, t.byteOffset, t.byteLength)) : null,
      });
    }
  } catch (e) {
    destroyDataset({ shards, count: data.count, features: data.features, targetWidth: width });
    throw e;
  }
  return { shards, count: data.count, features: data.features, targetWidth: width };
}

export function destroyDataset(d: Resident | undefined): void {
  for (const s of d?.shards ?? []) {
    s.images.destroy();
    s.labels.destroy();
    s.targets?.destroy();
  }
}

/** The epoch's order (example indices); the buffer is replaced only when it must grow. */
export class OrderBuffer {
  buffer: GPUBuffer | null = null;
  length = 0;

  /** Writes the order; returns true when the buffer was replaced (bind groups that use it are stale). */
  write(device: GPUDevice, order: Uint32Array): boolean {
    const bytes = Math.max(16, order.length * 4);
    let replaced = false;
    if (!this.buffer || this.buffer.size < bytes) {
      this.buffer?.destroy();
      this.buffer = device.createBuffer({ label: 'tessera order', size: align4(bytes), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
      replaced = true;
    }
    device.queue.writeBuffer(this.buffer, 0, order.buffer, order.byteOffset, order.byteLength);
    this.length = order.length;
    return replaced;
  }

  destroy(): void {
    this.buffer?.destroy();
    this.buffer = null;
  }
}

/**
 * The datasets a backend holds (train, test, a predict batch), the order
 * buffer, and each dataset's gather dispatch (bound to its buffers, so made
 * once per dataset and order buffer).
 */
export class ResidentSets {
  private sets = new Map<string, Resident>();
  private gathers = new Map<string, GpuDispatch[]>();
  readonly order = new OrderBuffer();

  /** `shardBytes`: the most bytes a shard's buffer holds, when below the device's limits (WebGpuBackendOptions.shardBytes). */
  constructor(readonly device: GPUDevice, readonly shardBytes?: number) {}

  set(slot: string, data: DatasetTensors): void {
    const resident = uploadDataset(this.device, slot, data, this.shardBytes);
    destroyDataset(this.sets.get(slot));
    this.sets.set(slot, resident);
    this.dropGathers(slot);
  }

  get(slot: string): Resident | undefined {
    return this.sets.get(slot);
  }

  delete(slot: string): void {
    destroyDataset(this.sets.get(slot));
    this.sets.delete(slot);
    this.dropGathers(slot);
  }

  setOrder(order: Uint32Array): void {
    if (this.order.write(this.device, order)) this.gathers.clear();
  }

  /** The gather dispatches of a dataset into the graph's input (and targets), through the order (training) or in sequence (evaluation, predict). */
  async gather(slot: string, ordered: boolean, build: (data: Resident, order: GPUBuffer | null) => Promise<GpuDispatch[]>): Promise<GpuDispatch[]> {
    const key = `${slot}:${ordered}`;
    let g = this.gathers.get(key);
    if (!g) {
      g = await build(this.sets.get(slot)!, ordered ? this.order.buffer : null);
      this.gathers.set(key, g);
    }
    return g;
  }

  /** A new model: its gather dispatches bind its buffers. */
  forgetDispatches(): void {
    this.gathers.clear();
  }

  private dropGathers(slot: string): void {
    for (const k of [...this.gathers.keys()]) if (k.startsWith(`${slot}:`)) this.gathers.delete(k);
  }

  destroy(): void {
    for (const slot of [...this.sets.keys()]) this.delete(slot);
    this.order.destroy();
  }
}
