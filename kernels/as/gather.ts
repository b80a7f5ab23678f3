// Gather a batch from the resident uint8 image set through an order buffer,
// normalising in the same pass: X[r, j] = images[order[offset + r], j] · PIXEL_SCALE
// (the f32 nearest 1/255, as the reference), labels as i32.

export const PIXEL_SCALE: f32 = <f32>(1.0 / 255.0);

/** order may be 0: identity (example offset + r). */
export function gather(images: usize, labels: usize, order: usize, offset: i32, rows: i32, features: i32, x: usize, labelsOut: usize): void {
  const scale = f32x4.splat(PIXEL_SCALE);
  const F = <usize>features;
  for (let r = 0; r < rows; r++) {
    const ex = order ? <usize>load<u32>(order + (<usize>(offset + r) << 2)) : <usize>(offset + r);
    const src = images + ex * F, dst = x + ((<usize>r * F) << 2);
    let j: usize = 0;
    for (; j + 16 <= F; j += 16) {
      const v = v128.load(src + j);
      const lo = i16x8.extend_low_i8x16_u(v), hi = i16x8.extend_high_i8x16_u(v);
      const d = dst + (j << 2);
      v128.store(d, f32x4.mul(f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(lo)), scale));
      v128.store(d, f32x4.mul(f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(lo)), scale), 16);
      v128.store(d, f32x4.mul(f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(hi)), scale), 32);
      v128.store(d, f32x4.mul(f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(hi)), scale), 48);
    }
    for (; j < F; j++) store<f32>(dst + (j << 2), <f32>load<u8>(src + j) * PIXEL_SCALE);
    store<i32>(labelsOut + (<usize>r << 2), <i32>load<u8>(labels + ex));
  }
}

/**
 * The batch's float targets: row r of y (W floats) is row order[offset + r]
 * of `targets` (example-major, W floats each); order 0: example offset + r.
 * targets 0 (predict, which has none and needs none): nothing is written.
 */
export function gatherTargets(targets: usize, order: usize, offset: i32, rows: i32, width: i32, y: usize): void {
  if (!targets) return;
  const bytes = <usize>width << 2;
  for (let r = 0; r < rows; r++) {
    const ex = order ? <usize>load<u32>(order + (<usize>(offset + r) << 2)) : <usize>(offset + r);
    memory.copy(y + <usize>r * bytes, targets + ex * bytes, bytes);
  }
}

/** Float32 rows (little-endian, as stored), copied through the order; order may be 0: identity. */
export function gatherF32(images: usize, labels: usize, order: usize, offset: i32, rows: i32, features: i32, x: usize, labelsOut: usize): void {
  const bytes = <usize>features << 2;
  for (let r = 0; r < rows; r++) {
    const ex = order ? <usize>load<u32>(order + (<usize>(offset + r) << 2)) : <usize>(offset + r);
    memory.copy(x + <usize>r * bytes, images + ex * bytes, bytes);
    store<i32>(labelsOut + (<usize>r << 2), <i32>load<u8>(labels + ex));
  }
}
