// Datasets resident on the GPU: uint8 images and labels uploaded once,
// packed four bytes to a u32 (WGSL has no 8-bit storage), and the epoch's
// order buffer. Browser-safe.

import type { DatasetTensors } from '../backend.js';
import { WebGpuError } from './errors.js';

export interface Resident { images: GPUBuffer; labels: GPUBuffer; count: number; features: number }

const align4 = (n: number) => Math.ceil(n / 4) * 4;

/** Upload a dataset (checked against its declared size and the device's binding limit). */
export function uploadDataset(device: GPUDevice, slot: string, data: DatasetTensors): Resident {
  const bytes = data.count * data.features;
  if (data.images.length < bytes || data.labels.length < data.count) {
    throw new Error(`${slot} dataset: ${data.count} examples of ${data.features} features need ${bytes} image bytes and ${data.count} labels, got ${data.images.length} and ${data.labels.length}`);
  }
  const limit = device.limits.maxStorageBufferBindingSize;
  const size = Math.max(16, align4(bytes));
  if (size > limit) {
    throw new WebGpuError(`the ${slot} set is ${size} bytes as packed pixels, more than this WebGPU device can bind in one buffer (maxStorageBufferBindingSize ${limit})`);
  }
  const make = (label: string, src: Uint8Array, n: number) => {
    const buf = device.createBuffer({ label: `tessera ${label}`, size: Math.max(16, align4(n)), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, mappedAtCreation: true });
    new Uint8Array(buf.getMappedRange()).set(src.subarray(0, n));
    buf.unmap();
    return buf;
  };
  return { images: make(`${slot} images`, data.images, bytes), labels: make(`${slot} labels`, data.labels, data.count), count: data.count, features: data.features };
}

export function destroyDataset(d: Resident | undefined): void {
  d?.images.destroy();
  d?.labels.destroy();
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
