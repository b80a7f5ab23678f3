// reshape: Keras Reshape (target_shape, one entry may be -1). Row-major
// data, so the graph renames the buffer; no op, no parameters.

import type { ReshapeLayerSpec } from '../config/types.js';
import { fmtShape, product, type LayerDef } from './types.js';

function targetShape(target: readonly number[], input: readonly number[]): number[] | string {
  const total = product(input);
  const unknown = target.filter((d) => d === -1).length;
  if (unknown > 1) return 'at most one entry of target_shape may be -1';
  const known = product(target.filter((d) => d !== -1));
  if (unknown === 1) {
    if (total % known !== 0) return `${total} values (input ${fmtShape(input)}) do not divide into ${fmtShape(target)}`;
    return target.map((d) => (d === -1 ? total / known : d));
  }
  if (known !== total) return `target_shape ${fmtShape(target)} holds ${known} values but the input ${fmtShape(input)} has ${total}`;
  return [...target];
}

export const reshapeLayer: LayerDef<ReshapeLayerSpec> = {
  type: 'reshape',
  infer(spec, [input], ctx) {
    const shape = targetShape(spec.target_shape, input!);
    if (typeof shape === 'string') {
      ctx.error({ path: [...ctx.path, 'target_shape'], message: `reshape: ${shape}`, hint: 'keep the number of values, or use -1 for one entry' });
      return { outputShape: [product(input!)], params: [] };
    }
    return { outputShape: shape, params: [] };
  },
  lower: (spec, _info, [x]) => {
    const shape = targetShape(spec.target_shape, x!.shape);
    return { output: { ...x!, shape: typeof shape === 'string' ? [x!.features] : shape } };
  },
};
