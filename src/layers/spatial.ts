// What the spatial layers (conv2d, pooling) share: reading Keras's int-or-
// pair arguments, the [height, width, channels] input they need (an error
// that says so at the layer otherwise), and their window geometry with a
// zero-sized output reported as a config error.

import type { Pair, Padding } from '../config/types.js';
import { window2d, type Window2d } from '../ops/conv-geometry.js';
import { fmtShape, type InferContext } from './types.js';

/** For lowering, which re-derives geometry that infer() has already checked and reported on. */
export const SILENT: InferContext = { path: [], spec: undefined as never, error: () => {}, warn: () => {} };

export const pair = (p: Pair | undefined, dflt: number): [number, number] => (p === undefined ? [dflt, dflt] : typeof p === 'number' ? [p, p] : [p[0], p[1]]);

/** [h, w, c] of a spatial layer's input, or an error naming the layer's need; a usable stand-in after an error. */
export function spatialInput(kind: string, input: readonly number[], ctx: InferContext): [number, number, number] {
  if (input.length === 3) return [input[0]!, input[1]!, input[2]!];
  const hint = input.length === 2 ? `add a channel axis: input_shape [${input.join(', ')}, 1], or a reshape layer with target_shape [${input.join(', ')}, 1]` : 'its input must be [height, width, channels]';
  ctx.error({ path: ctx.path, message: `a ${kind} layer needs an input of shape [height, width, channels] but gets ${fmtShape(input)}`, hint });
  return [Math.max(1, input[0] ?? 1), Math.max(1, input[1] ?? 1), Math.max(1, input[2] ?? 1)];
}

/** The window geometry, or an error at the layer when the window does not fit or the output would be empty. */
export function spatialWindow(kind: string, hwc: [number, number, number], k: [number, number], stride: [number, number], dilation: [number, number], padding: Padding, ctx: InferContext): Window2d {
  const g = window2d(hwc[0], hwc[1], k, stride, dilation, padding);
  const span = [(k[0] - 1) * dilation[0] + 1, (k[1] - 1) * dilation[1] + 1];
  if (g.outH < 1 || g.outW < 1) {
    const what = padding === 'valid' && (span[0]! > hwc[0] || span[1]! > hwc[1])
      ? `its ${span[0]}×${span[1]} window is larger than its ${hwc[0]}×${hwc[1]} input`
      : `it leaves a ${g.outH}×${g.outW} output`;
    ctx.error({ path: ctx.path, message: `${kind} layer on input ${fmtShape(hwc)}: ${what}`, hint: "use a smaller window or stride, or padding: 'same'" });
  }
  return { ...g, outH: Math.max(1, g.outH), outW: Math.max(1, g.outW) };
}
