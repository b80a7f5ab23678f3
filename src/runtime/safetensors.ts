// Weights in the safetensors format (https://github.com/huggingface/safetensors),
// encoded and decoded in memory. Browser-safe: no Node imports; file I/O is
// in src/data/weights-node.ts.
//
// Layout: an 8-byte little-endian u64 N, then N bytes of UTF-8 JSON
//   { "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, ...,
//     "__metadata__": { "<key>": "<string>" } }
// padded with spaces so the data starts 8-byte aligned, then the data:
// little-endian values, each tensor at [begin, end) relative to the data
// start, tensors back to back with no gaps. Tensor names are the graph's
// parameter names (dense_1/kernel, ...). Tessera writes and reads F32 only.

import { DataError } from '../data/errors.js';
import type { Graph } from './graph.js';

export interface NamedTensor { name: string; shape: number[]; data: Float32Array }
export interface DecodedTensor { dtype: string; shape: number[]; data: Float32Array }
export interface SafetensorsFile { tensors: Map<string, DecodedTensor>; metadata: Record<string, string> }

/** Largest header accepted (the reference implementation's limit). */
const MAX_HEADER = 100_000_000;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;
const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function encodeSafetensors(tensors: NamedTensor[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = Object.create(null); // no prototype: any tensor name is an own key
  if (metadata && Object.keys(metadata).length) header.__metadata__ = { ...metadata };
  let offset = 0;
  const names = new Set<string>();
  for (const t of tensors) {
    if (t.name === '__metadata__' || names.has(t.name)) throw new Error(`safetensors: duplicate or reserved tensor name '${t.name}'`);
    if (product(t.shape) !== t.data.length) throw new Error(`safetensors: tensor '${t.name}' has shape ${fmt(t.shape)} but ${t.data.length} values`);
    names.add(t.name);
    header[t.name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + 4 * t.data.length] };
    offset += 4 * t.data.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, padded, true);
  view.setUint32(4, Math.floor(padded / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let pos = 8 + padded;
  for (const t of tensors) {
    if (LITTLE_ENDIAN) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    else for (let i = 0; i < t.data.length; i++) view.setFloat32(pos + 4 * i, t.data[i], true);
    pos += t.data.byteLength;
  }
  return out;
}

/** Decode and validate a safetensors file; every problem is a one-line DataError naming `source`. */
export function decodeSafetensorsFile(bytes: Uint8Array, source: string): SafetensorsFile {
  const fail = (what: string): never => { throw new DataError(source, `${source}: ${what}`); };
  if (bytes.length < 8) fail(`not a safetensors file: ${bytes.length} bytes, fewer than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true), hi = view.getUint32(4, true);
  const n = hi * 2 ** 32 + lo;
  if (n > MAX_HEADER || n > bytes.length - 8) {
    fail(`not a safetensors file or truncated: header length ${n} exceeds the ${bytes.length - 8} bytes after it`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (err) {
    fail(`corrupt header: not valid UTF-8 JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('corrupt header: the JSON header is not an object');
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;

  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('corrupt header: __metadata__ is not an object');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`corrupt header: __metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const e = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) fail(`corrupt header: entry '${name}' is not an object`);
    if (typeof e.dtype !== 'string') fail(`corrupt header: tensor '${name}' has no dtype`);
    const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
    if (!Array.isArray(e.shape) || !e.shape.every(isCount)) fail(`corrupt header: tensor '${name}' has no valid shape`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every(isCount) || off[0] > off[1]) {
      fail(`corrupt header: tensor '${name}' has invalid data_offsets ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as number[];
    if (end > dataLength) fail(`truncated: tensor '${name}' ends at byte ${end} of the data, file has ${dataLength} bytes of data`);
    if (e.dtype !== 'F32') fail(`tensor '${name}' has dtype ${e.dtype}; Tessera reads only F32 weights`);
    const shape = e.shape as number[];
    if (end - begin !== 4 * product(shape)) {
      fail(`corrupt header: tensor '${name}' of shape ${fmt(shape)} needs ${4 * product(shape)} bytes, data_offsets give ${end - begin}`);
    }
    entries.push({ name, dtype: e.dtype as string, shape, begin, end });
  }
  // The data must be covered exactly: tensors back to back from 0 to the end.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin !== at) fail(`corrupt header: tensor '${e.name}' starts at byte ${e.begin} of the data, expected ${at} (tensors must be contiguous)`);
    at = e.end;
  }
  if (at !== dataLength) fail(`${dataLength - at} bytes after the last tensor's data`);

  const tensors = new Map<string, DecodedTensor>();
  for (const e of entries) {
    const count = (e.end - e.begin) / 4;
    let data: Float32Array;
    // Uint8Array's slice copies; a Node Buffer's `slice` is a view of a larger (pooled) buffer, so it is not called.
    if (LITTLE_ENDIAN) data = new Float32Array(Uint8Array.prototype.slice.call(bytes, dataStart + e.begin, dataStart + e.end).buffer);
    else {
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(dataStart + e.begin + 4 * i, true);
    }
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

export function decodeSafetensors(bytes: Uint8Array, source: string): Map<string, DecodedTensor> {
  return decodeSafetensorsFile(bytes, source).tensors;
}

/**
 * The graph's parameters (graph.params order) from decoded tensors, or a
 * DataError listing every mismatch: missing and unexpected tensors, wrong
 * shapes (`dense_1/kernel: file has [784, 64], model needs [784, 128]`), wrong dtypes.
 */
export function checkWeightsAgainstGraph(tensors: Map<string, DecodedTensor>, graph: Graph, source: string): Float32Array[] {
  const problems: string[] = [];
  const wanted = new Set(graph.params.map((p) => p.name));
  const missing = graph.params.filter((p) => !tensors.has(p.name)).map((p) => p.name);
  const unexpected = [...tensors.keys()].filter((n) => !wanted.has(n));
  if (missing.length) problems.push(`missing ${missing.join(', ')}`);
  if (unexpected.length) problems.push(`unexpected ${unexpected.join(', ')}`);
  for (const p of graph.params) {
    const t = tensors.get(p.name);
    if (!t) continue;
    if (t.dtype !== 'F32') problems.push(`${p.name}: file has dtype ${t.dtype}, model needs F32`);
    else if (fmt(t.shape) !== fmt(p.shape)) problems.push(`${p.name}: file has ${fmt(t.shape)}, model needs ${fmt(p.shape)}`);
    else if (t.data.length !== p.size) problems.push(`${p.name}: file has ${t.data.length} values, model needs ${p.size}`);
  }
  if (problems.length) {
    throw new DataError(source, `${source}: weights do not match model '${graph.name}': ${problems.join('; ')}`);
  }
  return graph.params.map((p) => tensors.get(p.name)!.data);
}
