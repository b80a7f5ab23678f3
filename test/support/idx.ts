// IDX files for tests: the format the MNIST files use (magic 0 0 8 ndims,
// then each dimension as a big-endian u32, then the ubyte data).

/** An IDX ubyte file with the given dims and data. */
export function idx(dims: number[], data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out.set([0, 0, 8, dims.length]);
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
