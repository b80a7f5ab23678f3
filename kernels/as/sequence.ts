// The sequence layers' lookups: embedding and position embedding, forward
// and backward. Contracts (f32 arrays, row-major; pointers are byte offsets,
// no alignment beyond 4 bytes assumed):
//   embedding(ids, table, y, n, D, V)          y[p, :] = table[row(ids[p]), :], p < n
//                                              (ids: n floats holding token ids, table: V × D, y: n × D)
//   embeddingBackward(ids, dy, dtable, n, D, V) dtable[V × D] = 0, then dtable[row(ids[p]), :] += dy[p, :], p ascending
//   positionEmbedding(x, p, y, M, F)           y[r, :] = x[r, :] + p[:], r < M (examples of F = T·D floats)
//   positionEmbeddingBackward(dy, dp, M, F)    dp[:] = Σ_r dy[r, :], r ascending (overwritten)
// row(id): id clamped to 0 … V − 1 and truncated; NaN reads as 0 (compared,
// never converted out of range: i32.trunc traps).

/** The table row of a token id held as f32. */
// @ts-ignore: decorator
@inline function tokenRow(id: f32, V: i32): usize {
  if (id >= <f32>(V - 1)) return <usize>(V - 1);
  return id > 0 ? <usize><i32>id : 0;
}

/** dst[0:n] = a[0:n] + b[0:n], four at a time. */
// @ts-ignore: decorator
@inline function addFloats(a: usize, b: usize, dst: usize, n: i32): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const o = <usize>j << 2;
    v128.store(dst + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; j < n; j++) {
    const o = <usize>j << 2;
    store<f32>(dst + o, load<f32>(a + o) + load<f32>(b + o));
  }
}

export function embedding(ids: usize, table: usize, y: usize, n: i32, D: i32, V: i32): void {
  const rowBytes = <usize>D << 2;
  for (let p = 0; p < n; p++) {
    const row = tokenRow(load<f32>(ids + (<usize>p << 2)), V);
    memory.copy(y + <usize>p * rowBytes, table + row * rowBytes, rowBytes);
  }
}

export function embeddingBackward(ids: usize, dy: usize, dtable: usize, n: i32, D: i32, V: i32): void {
  const rowBytes = <usize>D << 2;
  memory.fill(dtable, 0, <usize>V * rowBytes);
  for (let p = 0; p < n; p++) {
    const dst = dtable + tokenRow(load<f32>(ids + (<usize>p << 2)), V) * rowBytes;
    addFloats(dst, dy + <usize>p * rowBytes, dst, D);
  }
}

export function positionEmbedding(x: usize, p: usize, y: usize, M: i32, F: i32): void {
  const rowBytes = <usize>F << 2;
  for (let r = 0; r < M; r++) addFloats(x + <usize>r * rowBytes, p, y + <usize>r * rowBytes, F);
}

export function positionEmbeddingBackward(dy: usize, dp: usize, M: i32, F: i32): void {
  const rowBytes = <usize>F << 2;
  memory.fill(dp, 0, rowBytes);
  for (let r = 0; r < M; r++) addFloats(dp, dy + <usize>r * rowBytes, dp, F);
}

/** embeddingBackward for the table rows [v0, v1) only: the same additions in the same order (a thread's share). */
export function embeddingBackwardRows(ids: usize, dy: usize, dtable: usize, n: i32, D: i32, V: i32, v0: i32, v1: i32): void {
  const rowBytes = <usize>D << 2;
  if (v1 <= v0) return;
  memory.fill(dtable + <usize>v0 * rowBytes, 0, <usize>(v1 - v0) * rowBytes);
  for (let p = 0; p < n; p++) {
    const row = tokenRow(load<f32>(ids + (<usize>p << 2)), V);
    if (row < <usize>v0 || row >= <usize>v1) continue;
    const dst = dtable + row * rowBytes;
    addFloats(dst, dy + <usize>p * rowBytes, dst, D);
  }
}

/** positionEmbeddingBackward for the floats [c0, c1) of dp only (c0 a multiple of 4): a thread's share. */
export function positionEmbeddingBackwardColumns(dy: usize, dp: usize, M: i32, F: i32, c0: i32, c1: i32): void {
  const rowBytes = <usize>F << 2, o = <usize>c0 << 2;
  memory.fill(dp + o, 0, <usize>(c1 - c0) << 2);
  for (let r = 0; r < M; r++) addFloats(dp + o, dy + <usize>r * rowBytes + o, dp + o, c1 - c0);
}
