// activation: a standalone Keras Activation layer, {type: activation,
// activation: tanh} (or an object with the activation's settings). Keeps
// its input's shape; no parameters.

import type { ActivationLayerSpec } from '../config/types.js';
import { lowerActivation, resolveActivation } from './activation-lowering.js';
import type { LayerDef } from './types.js';

export const activationLayer: LayerDef<ActivationLayerSpec> = {
  type: 'activation',
  infer: (spec, [input]) => ({ outputShape: [...input!], params: [], activation: resolveActivation(spec.activation).name }),
  lower: (spec, info, [x], g) => lowerActivation(resolveActivation(spec.activation), info.name, x!, `${info.name}/out`, g),
};
