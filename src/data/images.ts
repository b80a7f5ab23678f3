// PNG and JPEG files as model input: decoded by pure-JavaScript decoders
// that also run in a browser (fast-png, jpeg-js), converted to grayscale or
// RGB and resized to the model's image size, as Keras's
// image_dataset_from_directory does: grayscale by tf.image.rgb_to_grayscale's
// weights (0.2989 R + 0.5870 G + 0.1140 B), bilinear resize with half-pixel
// centres (tf.image.resize), rounded to uint8 pixels. Browser-safe.

import { convertIndexedToRgb, decode as decodePng } from 'fast-png';
import { decode as decodeJpeg } from 'jpeg-js';
import { DataError } from './errors.js';

export type ColorMode = 'grayscale' | 'rgb';

/** A decoded image: height × width × channels bytes (1 gray, 3 RGB). */
export interface Pixels { width: number; height: number; channels: 1 | 3; data: Uint8Array }

const isPng = (b: Uint8Array) => b.length > 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
const isJpeg = (b: Uint8Array) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

/** Decode a PNG or JPEG (by content, not by name) into 8-bit gray or RGB; anything else is a DataError naming `source`. */
export function decodeImage(bytes: Uint8Array, source: string): Pixels {
  try {
    if (isPng(bytes)) {
      const png = decodePng(bytes);
      let data: ArrayLike<number> = png.data, channels = png.channels;
      if (png.palette) { data = convertIndexedToRgb(png); channels = png.palette[0]?.length ?? 3; }
      const depth16 = png.depth === 16 && !png.palette;
      const { width, height } = png;
      const out = new Uint8Array(width * height * (channels >= 3 ? 3 : 1));
      const c = channels >= 3 ? 3 : 1;
      for (let p = 0; p < width * height; p++) {
        for (let k = 0; k < c; k++) {
          const v = data[p * channels + k]!;
          out[p * c + k] = depth16 ? v >> 8 : png.depth < 8 && !png.palette ? Math.round((v * 255) / ((1 << png.depth) - 1)) : v;
        }
      }
      return { width, height, channels: c as 1 | 3, data: out };
    }
    if (isJpeg(bytes)) {
      const jpg = decodeJpeg(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 1024 });
      const channels = jpg.data.length / (jpg.width * jpg.height);
      if (channels === 3 || channels === 1) return { width: jpg.width, height: jpg.height, channels, data: jpg.data as Uint8Array };
      throw new Error(`${channels} channels`);
    }
  } catch (e) {
    throw new DataError(source, `${source}: cannot decode the image: ${(e as Error).message}`);
  }
  throw new DataError(source, `${source}: cannot decode the image: not a PNG or JPEG file`);
}

/** Gray or RGB as asked: RGB to gray by TF's weights; gray to RGB by copying. */
function toMode(img: Pixels, mode: ColorMode): Pixels {
  const want = mode === 'grayscale' ? 1 : 3;
  if (img.channels === want) return img;
  const n = img.width * img.height, out = new Uint8Array(n * want);
  for (let p = 0; p < n; p++) {
    if (want === 1) out[p] = Math.round(0.2989 * img.data[3 * p]! + 0.587 * img.data[3 * p + 1]! + 0.114 * img.data[3 * p + 2]!);
    else out[3 * p] = out[3 * p + 1] = out[3 * p + 2] = img.data[p]!;
  }
  return { ...img, channels: want as 1 | 3, data: out };
}

/** Bilinear resize with half-pixel centres (tf.image.resize, antialias off). */
function resize(img: Pixels, height: number, width: number): Pixels {
  if (img.height === height && img.width === width) return img;
  const c = img.channels, out = new Uint8Array(height * width * c);
  const sy = img.height / height, sx = img.width / width;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), img.height - 1);
    const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, img.height - 1), wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), img.width - 1);
      const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, img.width - 1), wx = fx - x0;
      for (let k = 0; k < c; k++) {
        const at = (yy: number, xx: number) => img.data[(yy * img.width + xx) * c + k]!;
        const v = (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x1)) + wy * ((1 - wx) * at(y1, x0) + wx * at(y1, x1));
        out[(y * width + x) * c + k] = Math.round(v);
      }
    }
  }
  return { width, height, channels: c, data: out };
}

/** An image file's bytes as the model's input: [height, width, channels] uint8 pixels, row-major. */
export function imageInput(bytes: Uint8Array, source: string, size: [number, number], mode: ColorMode): Uint8Array {
  return resize(toMode(decodeImage(bytes, source), mode), size[0], size[1]).data;
}

/** File names the image readers take (Keras also lists bmp and gif, which have no decoder here). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];
