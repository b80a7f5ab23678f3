// The first bytes of data files, for `tessera validate --data`, which reads
// headers rather than whole files: a byte range of a file, the decompressed
// start of a gzip file, and the .npy headers of an .npz (zip) archive found
// through its central directory, with only the first chunk of a deflated
// entry inflated. Node-only (node:fs, node:zlib).

import { open, type FileHandle } from 'node:fs/promises';
import { constants, gunzipSync, inflateRawSync } from 'node:zlib';
import { DataError } from './errors.js';
import { describeFsError } from './node.js';

/** An open file and its length; a failure to open is the loaders' one-line "cannot read <path>: <why>". */
export async function withFile<T>(path: string, fn: (fh: FileHandle, size: number) => Promise<T>): Promise<T> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new DataError(path, `cannot read ${path}: ${describeFsError(err)}`);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new DataError(path, `cannot read ${path}: it is a directory`);
    return await fn(fh, st.size);
  } finally {
    await fh.close();
  }
}

/** Bytes [offset, offset + length) of an open file (fewer at its end). */
export async function readRange(fh: FileHandle, offset: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(Math.max(0, length));
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, offset + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/**
 * The start of a stream's decompressed data from its first `compressed`
 * bytes: zlib's sync flush gives what those bytes hold instead of failing at
 * the missing end. A corrupt start is a DataError naming `where`.
 */
function inflateStart(compressed: Uint8Array, raw: boolean, where: string): Uint8Array {
  try {
    const out = raw ? inflateRawSync(compressed, { finishFlush: constants.Z_SYNC_FLUSH }) : gunzipSync(compressed, { finishFlush: constants.Z_SYNC_FLUSH });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    throw new DataError(where, `${where}: corrupt ${raw ? 'deflate' : 'gzip'} data (${(err as Error).message})`);
  }
}

/**
 * At least `enough(bytes)` of a file's (decompressed) start: read in growing
 * chunks from offset `at` (up to `limit` bytes) until the predicate holds or
 * the data ends. `how`: as stored, gzip, or raw deflate (a zip entry).
 */
export async function readStart(fh: FileHandle, at: number, limit: number, how: 'stored' | 'gzip' | 'deflate', where: string, enough: (b: Uint8Array) => boolean): Promise<Uint8Array> {
  for (let n = 4096; ; n *= 8) {
    const chunk = await readRange(fh, at, Math.min(limit, n));
    const bytes = how === 'stored' ? chunk : inflateStart(chunk, how === 'deflate', where);
    if (enough(bytes) || chunk.length >= limit) return bytes;
  }
}

/** One entry of a zip archive's central directory. */
export interface ZipEntry { name: string; method: number; compressedSize: number; size: number; localOffset: number }

const u16 = (v: DataView, at: number) => v.getUint16(at, true);
const u32 = (v: DataView, at: number) => v.getUint32(at, true);
const u64 = (v: DataView, at: number) => Number(v.getBigUint64(at, true));

/**
 * The entries of a zip archive from its central directory (the end of the
 * file), zip64 included, reading nothing of the entries themselves.
 */
export async function zipEntries(fh: FileHandle, size: number, where: string): Promise<ZipEntry[]> {
  const bad = (why: string) => new DataError(where, `${where}: not a readable .npz (zip) file: ${why}`);
  const tailLength = Math.min(size, 22 + 65535);
  const tail = await readRange(fh, size - tailLength, tailLength);
  const tv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) if (u32(tv, i) === 0x06054b50) { eocd = i; break; }
  if (eocd < 0) throw bad('no end of central directory record');
  let count = u16(tv, eocd + 10), cdSize = u32(tv, eocd + 12), cdOffset = u32(tv, eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    // zip64: the locator just before the record points at the zip64 end record.
    if (eocd < 20 || u32(tv, eocd - 20) !== 0x07064b50) throw bad('a zip64 archive without its locator');
    const rec = await readRange(fh, u64(tv, eocd - 20 + 8), 56);
    const rv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
    if (rec.length < 56 || u32(rv, 0) !== 0x06064b50) throw bad('a broken zip64 end record');
    count = u64(rv, 32);
    cdSize = u64(rv, 40);
    cdOffset = u64(rv, 48);
  }
  if (cdOffset + cdSize > size) throw bad('the central directory lies past the end of the file (truncated?)');
  const cd = await readRange(fh, cdOffset, cdSize);
  const v = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > cd.length || u32(v, at) !== 0x02014b50) throw bad(`central directory entry ${i} is broken`);
    const nameLength = u16(v, at + 28), extraLength = u16(v, at + 30), commentLength = u16(v, at + 32);
    const e: ZipEntry = {
      name: new TextDecoder().decode(cd.subarray(at + 46, at + 46 + nameLength)),
      method: u16(v, at + 10), compressedSize: u32(v, at + 20), size: u32(v, at + 24), localOffset: u32(v, at + 42),
    };
    // zip64 sizes and offset, in this order, for the fields that say 0xffffffff.
    for (let x = at + 46 + nameLength, end = x + extraLength; x + 4 <= end; x += 4 + u16(v, x + 2)) {
      if (u16(v, x) !== 0x0001) continue;
      let y = x + 4;
      if (e.size === 0xffffffff) { e.size = u64(v, y); y += 8; }
      if (e.compressedSize === 0xffffffff) { e.compressedSize = u64(v, y); y += 8; }
      if (e.localOffset === 0xffffffff) e.localOffset = u64(v, y);
    }
    entries.push(e);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Where an entry's data starts: after its local header, whose name and extra field lengths may differ from the central directory's. */
export async function zipDataStart(fh: FileHandle, e: ZipEntry, where: string): Promise<number> {
  const h = await readRange(fh, e.localOffset, 30);
  const v = new DataView(h.buffer, h.byteOffset, h.byteLength);
  if (h.length < 30 || u32(v, 0) !== 0x04034b50) throw new DataError(where, `${where}: not a readable .npz (zip) file: the local header of ${e.name} is broken`);
  return e.localOffset + 30 + u16(v, 26) + u16(v, 28);
}

/** The start of a zip entry's data (stored or deflated), enough for `enough`. */
export async function zipEntryStart(fh: FileHandle, e: ZipEntry, where: string, enough: (b: Uint8Array) => boolean): Promise<Uint8Array> {
  if (e.method !== 0 && e.method !== 8) throw new DataError(where, `${where}: zip compression method ${e.method}; numpy.savez stores (0) or deflates (8)`);
  return readStart(fh, await zipDataStart(fh, e, where), e.compressedSize, e.method === 0 ? 'stored' : 'deflate', where, enough);
}

/** A zip entry's whole data, decompressed (for a labels array when the classes must be counted). */
export async function zipEntryBytes(fh: FileHandle, e: ZipEntry, where: string): Promise<Uint8Array> {
  if (e.method !== 0 && e.method !== 8) throw new DataError(where, `${where}: zip compression method ${e.method}; numpy.savez stores (0) or deflates (8)`);
  const data = await readRange(fh, await zipDataStart(fh, e, where), e.compressedSize);
  if (e.method === 0) return data;
  try {
    const out = inflateRawSync(data);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    throw new DataError(where, `${where}: corrupt deflate data (${(err as Error).message})`);
  }
}
