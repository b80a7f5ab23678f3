// NumPy .npz files (numpy.savez / savez_compressed): a zip archive of .npy
// arrays, unzipped with fflate. The .npy header is parsed here: C order and
// little-endian (or byte-sized) data only; Fortran order, big-endian data
// and pickled object arrays are refused with the reason. Browser-safe.
//
// .npy layout: magic "\x93NUMPY", major and minor version bytes, a
// little-endian header length (u16 in version 1, u32 in 2 and 3), then a
// Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (n, …), }
// and the data.

import { unzipSync } from 'fflate';
import { DataError } from './errors.js';

export interface NpyArray { name: string; dtype: string; shape: number[]; data: Uint8Array | Float32Array | Float64Array | Int32Array | BigInt64Array | Uint16Array | Int16Array | Int8Array | Uint32Array | BigUint64Array }

const TYPES: Record<string, { bytes: number; make: (b: ArrayBuffer, n: number, at: number) => NpyArray['data'] }> = {
  u1: { bytes: 1, make: (b, n, at) => new Uint8Array(b, at, n) },
  i1: { bytes: 1, make: (b, n, at) => new Int8Array(b, at, n) },
  u2: { bytes: 2, make: (b, n, at) => new Uint16Array(b, at, n) },
  i2: { bytes: 2, make: (b, n, at) => new Int16Array(b, at, n) },
  u4: { bytes: 4, make: (b, n, at) => new Uint32Array(b, at, n) },
  i4: { bytes: 4, make: (b, n, at) => new Int32Array(b, at, n) },
  u8: { bytes: 8, make: (b, n, at) => new BigUint64Array(b, at, n) },
  i8: { bytes: 8, make: (b, n, at) => new BigInt64Array(b, at, n) },
  f4: { bytes: 4, make: (b, n, at) => new Float32Array(b, at, n) },
  f8: { bytes: 8, make: (b, n, at) => new Float64Array(b, at, n) },
};

/** What a .npy header says: the dtype (numpy's descr), the shape, bytes per element and where the data starts. */
export interface NpyHeader { dtype: string; shape: number[]; bytesPerElement: number; dataStart: number }

/**
 * Parse a .npy header; `bytes` may be just the array's first bytes
 * (tessera validate --data inflates no more). Refuses Fortran order,
 * big-endian data, object and structured arrays, in words.
 */
export function parseNpyHeader(bytes: Uint8Array, where: string): NpyHeader {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) throw new DataError(where, `${where}: not a .npy array (bad magic bytes)`);
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [lenBytes, headerLen] = major === 1 ? [2, view.getUint16(8, true)] : [4, view.getUint32(8, true)];
  const start = 8 + lenBytes;
  if (start + headerLen > bytes.length) throw new DataError(where, `${where}: truncated .npy header`);
  const header = new TextDecoder(major >= 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined) {
    if (/'descr'\s*:\s*\[/.test(header)) throw new DataError(where, `${where}: a structured (record) array; only plain numeric arrays are supported`);
    throw new DataError(where, `${where}: cannot read the .npy header ${JSON.stringify(header.trim())}`);
  }
  if (descr.includes('O')) throw new DataError(where, `${where}: an object array (dtype ${descr}, stored with pickle); save numeric arrays (uint8 or float32), e.g. x.astype('float32')`);
  if (fortran === 'True') throw new DataError(where, `${where}: Fortran-order data; save it in C order (numpy.ascontiguousarray(x)) before numpy.savez`);
  if (fortran === undefined || shapeText === undefined) throw new DataError(where, `${where}: cannot read the .npy header ${JSON.stringify(header.trim())}`);
  const order = descr[0]!, code = descr.slice(1);
  const type = TYPES[code];
  if (!type) throw new DataError(where, `${where}: dtype ${descr} is not supported; use uint8 or float32 features and integer labels`);
  if (order === '>' && type.bytes > 1) throw new DataError(where, `${where}: big-endian data (dtype ${descr}); save it little-endian (x.astype('<${code}'))`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  return { dtype: descr, shape, bytesPerElement: type.bytes, dataStart: start + headerLen };
}

/** The data bytes a header's shape needs, and a DataError when `available` is fewer. */
export function checkNpyLength(h: NpyHeader, available: number, where: string): number {
  const n = h.shape.reduce((a, b) => a * b, 1);
  if (available < n * h.bytesPerElement) {
    throw new DataError(where, `${where}: truncated: shape (${h.shape.join(', ')}) of ${h.dtype} needs ${n * h.bytesPerElement} bytes, the file has ${available}`);
  }
  return n;
}

/** Parse one .npy file; `where` names it in errors ("data.npz: x_train.npy"). */
export function parseNpy(bytes: Uint8Array, where: string, name: string): NpyArray {
  const h = parseNpyHeader(bytes, where);
  const n = checkNpyLength(h, bytes.length - h.dataStart, where);
  const make = TYPES[h.dtype.slice(1)]!.make;
  // A view of the unzipped entry where the data is aligned for its type (numpy
  // pads the header to 64 bytes, and bytes are always aligned), so the array
  // is held once; a copy only where it is not.
  const at = bytes.byteOffset + h.dataStart;
  if (at % h.bytesPerElement === 0) return { name, dtype: h.dtype, shape: h.shape, data: make(bytes.buffer as ArrayBuffer, n, at) };
  const buf = bytes.slice(h.dataStart, h.dataStart + n * h.bytesPerElement).buffer;
  return { name, dtype: h.dtype, shape: h.shape, data: make(buf, n, 0) };
}

/** The arrays of an .npz archive by name (without .npy); `source` names the file in errors. */
export function parseNpz(bytes: Uint8Array, source: string): Map<string, NpyArray> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    throw new DataError(source, `${source}: not a readable .npz (zip) file: ${(e as Error).message}`);
  }
  const out = new Map<string, NpyArray>();
  for (const [file, data] of Object.entries(files)) {
    if (!file.endsWith('.npy')) continue;
    const name = file.slice(0, -4);
    out.set(name, parseNpy(data, `${source}: ${file}`, name));
  }
  return out;
}
