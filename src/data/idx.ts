// IDX files (the format MNIST ships in), parsed and validated in memory.
// Browser-safe: no Node imports; the Node loader (node.ts) and a browser
// page that fetches the files both hand their bytes to parseIdx.
//
// Layout: 2 zero bytes, a type byte (0x08 = unsigned byte, the only type
// MNIST uses), a rank byte, then `rank` big-endian u32 dimensions, then the
// data, row-major, exactly product(dims) bytes.

import type { DatasetTensors } from './types.js';
import { DataError, formatCount } from './errors.js';
import { sliceExamples } from './split.js';

export interface IdxArray {
  dims: number[];
  /** A view into the input bytes (not a copy). */
  data: Uint8Array;
}

const IDX_TYPES: Record<number, string> = { 0x08: 'ubyte', 0x09: 'byte', 0x0b: 'short', 0x0c: 'int', 0x0d: 'float', 0x0e: 'double' };

const hex = (b: number) => `0x${b.toString(16).padStart(2, '0')}`;

/**
 * The header of an IDX file of unsigned bytes: its dimensions and where the
 * data starts. `bytes` may be just the file's first bytes (tessera validate
 * --data reads no more); `source` names the file in errors.
 */
export function parseIdxHeader(bytes: Uint8Array, source: string, fileLength = bytes.length): { dims: number[]; headerLength: number } {
  if (bytes.length < 4) {
    throw new DataError(source, `${source}: not an IDX file: it has ${fileLength} byte${fileLength === 1 ? '' : 's'}, fewer than the 4-byte header`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const gz = bytes[0] === 0x1f && bytes[1] === 0x8b ? ' (it looks gzip-compressed; decompress it first)' : '';
    throw new DataError(source, `${source}: not an IDX file: bad magic number ${[0, 1, 2, 3].map((i) => hex(bytes[i])).join(' ')}, expected 0x00 0x00 0x08 <rank>${gz}`);
  }
  const type = bytes[2];
  if (type !== 0x08) {
    const name = IDX_TYPES[type];
    throw new DataError(source, name
      ? `${source}: IDX data type is ${name} (${hex(type)}); only unsigned bytes (0x08) are supported`
      : `${source}: not an IDX file: unknown data type byte ${hex(type)}, expected 0x08 (unsigned byte)`);
  }
  const rank = bytes[3];
  if (rank < 1) throw new DataError(source, `${source}: IDX rank is 0; expected at least 1 dimension`);
  const headerLength = 4 + 4 * rank;
  if (bytes.length < headerLength) {
    throw new DataError(source, `${source}: truncated: the header of a rank-${rank} IDX file is ${headerLength} bytes, file has ${formatCount(fileLength)}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  return { dims, headerLength };
}

/** The data bytes after the header must be exactly product(dims): a DataError saying by how much they are not. */
export function checkIdxLength(dims: number[], dataBytes: number, source: string): void {
  const expected = dims.reduce((a, b) => a * b, 1);
  const shape = dims.join('×');
  if (dataBytes < expected) {
    throw new DataError(source, `${source}: truncated: header says ${shape} = ${formatCount(expected)} bytes of data, file has ${formatCount(dataBytes)}`);
  }
  if (dataBytes > expected) {
    throw new DataError(source, `${source}: ${formatCount(dataBytes - expected)} unexpected bytes after the data: header says ${shape} = ${formatCount(expected)} bytes of data, file has ${formatCount(dataBytes)}`);
  }
}

/** Parse an IDX file of unsigned bytes. `source` names the file in errors. */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  const { dims, headerLength } = parseIdxHeader(bytes, source);
  checkIdxLength(dims, bytes.length - headerLength, source);
  return { dims, data: bytes.subarray(headerLength) };
}

/**
 * An example file's and a label file's dimensions pair up: examples of rank
 * 2 or more (count × example shape), labels of rank 1, the same count. The
 * example count and shape; `source` names the pair in errors.
 */
export function checkIdxPair(imageDims: number[], labelDims: number[], source: string): { count: number; shape: number[] } {
  if (imageDims.length < 2) {
    throw new DataError(source, `${source}: examples must be an IDX array of rank 2 or more (count×example shape), got rank ${imageDims.length} [${imageDims.join('×')}]`);
  }
  if (labelDims.length !== 1) {
    throw new DataError(source, `${source}: labels must be a rank-1 IDX array (count), got rank ${labelDims.length} [${labelDims.join('×')}]`);
  }
  const [count, ...shape] = imageDims as [number, ...number[]];
  if (labelDims[0] !== count) {
    throw new DataError(source, `${source}: ${formatCount(count)} images but ${formatCount(labelDims[0]!)} labels`);
  }
  return { count, shape };
}

/**
 * Pair an example file (rank >= 2: count × example shape, e.g. count × rows
 * × cols) with a label file (rank 1: count) into a dataset. `source` names
 * the pair in errors; labels must be below `classes` when it is given.
 */
export function toDataset(images: IdxArray, labels: IdxArray, source: string, classes?: number): DatasetTensors {
  const { count, shape } = checkIdxPair(images.dims, labels.dims, source);
  if (classes !== undefined) checkLabels(labels.data, classes, source);
  return { images: images.data, labels: labels.data, count, features: shape.reduce((a, b) => a * b, 1), shape };
}

/** Every label below `classes`, or a DataError naming the first entry that is not. */
export function checkLabels(labels: Uint8Array, classes: number, source: string): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! >= classes) throw new DataError(source, `${source}: label ${i} is ${labels[i]}, expected 0..${classes - 1} (${classes} classes)`);
  }
}

/** The largest label + 1 (at least 2). */
export function classCount(...labelSets: Uint8Array[]): number {
  let max = 1;
  for (const labels of labelSets) for (let i = 0; i < labels.length; i++) if (labels[i]! > max) max = labels[i]!;
  return max + 1;
}

/** The first `n` examples of a dataset (views, no copy). */
export function takeExamples(data: DatasetTensors, n: number): DatasetTensors {
  return sliceExamples(data, 0, Math.max(0, Math.min(data.count, Math.floor(n))));
}
