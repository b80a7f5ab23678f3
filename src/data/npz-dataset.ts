// The arrays of a .npz file as a dataset: x_train and y_train (required),
// x_test and y_test (both or neither), as keras.datasets' load_data returns
// them and numpy.savez stores them. Features uint8 (pixels, scaled by 1/255
// when gathered) or float32 (float64 is narrowed to float32); labels of any
// integer type, shape (n,) or (n, 1), 0..255, or one-hot rows (n, classes)
// (Keras's to_categorical), which become the same class ids. Browser-safe.

import { DataError } from './errors.js';
import { parseNpz, type NpyArray } from './npz.js';
import type { DatasetTensors } from './types.js';

/** What a features array's header says it holds (count, example shape, stored dtype), or a DataError for a shape or dtype the loader refuses. */
export function featureHeader(a: Pick<NpyArray, 'shape' | 'dtype'>, where: string): { count: number; shape: number[]; dtype: 'uint8' | 'float32' } {
  if (a.shape.length < 2) throw new DataError(where, `${where}: shape (${a.shape.join(', ')}); examples need shape (count, ...), rank 2 or more`);
  const code = a.dtype.slice(1);
  if (code !== 'u1' && code !== 'f4' && code !== 'f8') throw new DataError(where, `${where}: features of dtype ${a.dtype}; use uint8 (pixels) or float32`);
  const [count, ...shape] = a.shape as [number, ...number[]];
  return { count, shape, dtype: code === 'u1' ? 'uint8' : 'float32' };
}

/** A labels array's header fits `count` examples: (count,), (count, 1) or one-hot (count, classes ≤ 256), integer class ids unless one-hot. */
export function checkLabelHeader(a: Pick<NpyArray, 'shape' | 'dtype'>, where: string, count: number): void {
  if (a.shape.length === 2 && a.shape[1]! > 1) {
    if (a.shape[0] !== count) throw new DataError(where, `${where}: ${a.shape[0]} labels for ${count} examples`);
    if (a.shape[1]! > 256) throw new DataError(where, `${where}: one-hot labels of ${a.shape[1]} classes; at most 256 are supported`);
    return;
  }
  if (!(a.shape.length === 1 || (a.shape.length === 2 && a.shape[1] === 1))) {
    throw new DataError(where, `${where}: labels of shape (${a.shape.join(', ')}); expected (count,) or (count, 1) class ids, or (count, classes) one-hot rows`);
  }
  if (a.shape[0] !== count) throw new DataError(where, `${where}: ${a.shape[0]} labels for ${count} examples`);
  if (a.dtype[1] === 'f') throw new DataError(where, `${where}: labels of dtype ${a.dtype}; class ids must be integers`);
}

function features(a: NpyArray, where: string): Pick<DatasetTensors, 'images' | 'dtype' | 'shape' | 'features' | 'count'> {
  const { count, shape } = featureHeader(a, where);
  const n = shape.reduce((x, y) => x * y, 1);
  if (a.data instanceof Uint8Array) return { images: a.data, dtype: 'uint8', shape, features: n, count };
  if (a.data instanceof Float32Array) return { images: new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), dtype: 'float32', shape, features: n, count };
  if (a.data instanceof Float64Array) return { images: new Uint8Array(Float32Array.from(a.data).buffer), dtype: 'float32', shape, features: n, count };
  throw new DataError(where, `${where}: features of dtype ${a.dtype}; use uint8 (pixels) or float32`);
}

/**
 * One-hot rows (count, classes), as Keras's to_categorical writes them for
 * categorical_crossentropy, as class ids: each row must hold a single 1 and
 * zeros (soft or multi-hot labels are refused, naming the row).
 */
function oneHotIds(a: NpyArray, where: string, count: number): Uint8Array {
  const C = a.shape[1]!;
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    let hot = -1;
    for (let c = 0; c < C; c++) {
      const v = Number(a.data[i * C + c]!);
      if (v === 1 && hot < 0) hot = c;
      else if (v !== 0) throw new DataError(where, `${where}: row ${i} is not one-hot (${Array.from({ length: C }, (_, k) => Number(a.data[i * C + k]!)).join(', ')}); labels of shape (count, classes) must hold a single 1 per row`);
    }
    if (hot < 0) throw new DataError(where, `${where}: row ${i} has no 1; labels of shape (count, classes) must hold a single 1 per row`);
    out[i] = hot;
  }
  return out;
}

/** A labels array as class ids, one per example (checkLabelHeader's shapes; one-hot rows become their ids). */
export function npzLabels(a: NpyArray, where: string, count: number): Uint8Array {
  checkLabelHeader(a, where, count);
  if (a.shape.length === 2 && a.shape[1]! > 1) return oneHotIds(a, where, count);
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const v = Number(a.data[i]!);
    if (!(v >= 0 && v <= 255)) throw new DataError(where, `${where}: entry ${i} is ${v}; class ids must be 0..255`);
    out[i] = v;
  }
  return out;
}

/** The training set and, when the file has x_test and y_test, the test set. */
export function npzDatasets(bytes: Uint8Array, source: string): { train: DatasetTensors; test?: DatasetTensors } {
  const arrays = parseNpz(bytes, source);
  const need = (name: string) => {
    const a = arrays.get(name);
    if (!a) throw new DataError(source, `${source}: no array ${name} (the file holds ${[...arrays.keys()].join(', ') || 'no arrays'}); expected x_train, y_train and optionally x_test, y_test, as numpy.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)`);
    return a;
  };
  const pair = (x: string, y: string): DatasetTensors => {
    const f = features(need(x), `${source}: ${x}`);
    return { ...f, labels: npzLabels(need(y), `${source}: ${y}`, f.count) };
  };
  const train = pair('x_train', 'y_train');
  if (arrays.has('x_test') !== arrays.has('y_test')) need(arrays.has('x_test') ? 'y_test' : 'x_test');
  return arrays.has('x_test') ? { train, test: pair('x_test', 'y_test') } : { train };
}
