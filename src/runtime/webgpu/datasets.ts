// Datasets resident on the GPU: uint8 images and labels uploaded once,
// packed four bytes to a u32 (WGSL has no 8-bit storage), float targets
// (where a dataset has them) as they are, the epoch's order buffer, and the
// gather dispatches of each. Browser-safe.

import type { GpuDispatch } from '../../ops/types.js';
import type { DatasetTensors } from '../backend.js';
import { WebGpuError } from './errors.js';
import { featureBytes } from '../../data/types.js';

export interface Resident {
  images: GPUBuffer; labels: GPUBuffer; count: number; features: number;
  /** Float targets, targetWidth per example (null, width 0: none). */
  targets: GPUBuffer | null; targetWidth: number;
}

const align4 = (n: number) => Math.ceil(n / 4) * 4;

/** Upload a dataset (checked against its declared size and the device's binding limit). */
export function uploadDataset(device: GPUDevice, slot: string, data: DatasetTensors): Resident {
  const bytes = featureBytes(data, data.count);
  if (data.images.length < bytes || data.labels.length < data.count) {
    throw new Error(`${slot} dataset: ${data.count} examples of ${data.features} features need ${bytes} feature bytes and ${data.count} labels, got ${data.images.length} and ${data.labels.length}`);
  }
  const limit = device.limits.maxStorageBufferBindingSize;
  const size = Math.max(16, align4(bytes));
  if (size > limit) {
    throw new WebGpuError(`the ${slot} set is ${size} bytes of features, more than this WebGPU device can bind in one buffer (maxStorageBufferBindingSize ${limit})`);
  }
  const make = (label: string, src: Uint8Array, n: number) => {
    const buf = device.createBuffer({ label: `tessera ${label}`, size: Math.max(16, align4(n)), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, mappedAtCreation: true });
    new Uint8Array(buf.getMappedRange()).set(src.subarray(0, n));
    buf.unmap();
    return buf;
  };
  const targetFloats = data.targets && data.targetWidth ? data.count * data.targetWidth : 0;
  if (data.targets && data.targets.length < targetFloats) throw new Error(`${slot} dataset: ${data.count} examples of ${data.targetWidth} targets need ${targetFloats} floats, got ${data.targets.length}`);
  if (targetFloats * 4 > limit) throw new WebGpuError(`the ${slot} set's targets are ${targetFloats * 4} bytes, more than this WebGPU device can bind in one buffer (maxStorageBufferBindingSize ${limit})`);
  const targets = targetFloats ? data.targets!.subarray(0, targetFloats) : null;
  return {
    images: make(`${slot} images`, data.images, bytes), labels: make(`${slot} labels`, data.labels, data.count), count: data.count, features: data.features,
    targets: targets ? make(`${slot} targets`, new Uint8Array(targets.buffer, targets.byteOffset, targets.byteLength), targets.byteLength) : null,
    targetWidth: targets ? data.targetWidth! : 0,
  };
}

export function destroyDataset(d: Resident | undefined): void {
  d?.images.destroy();
  d?.labels.destroy();
  d?.targets?.destroy();
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

  constructor(readonly device: GPUDevice) {}

  set(slot: string, data: DatasetTensors): void {
    const resident = uploadDataset(this.device, slot, data);
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
