// Every activation op, flat, for the registry (src/ops/index.ts). The tuple
// keeps each op's record type, so the registry's `Op` union includes them.

import { eluOps } from './elu.js';
import { geluOps } from './gelu.js';
import { geluTanhOps } from './gelu_tanh.js';
import { leakyReluOps } from './leaky_relu.js';
import { reluOp } from './relu.js';
import { sigmoidOps } from './sigmoid.js';
import { siluOps } from './silu.js';
import { softmaxOps } from './softmax.js';
import { softplusOps } from './softplus.js';
import { tanhOps } from './tanh.js';

export const ACTIVATION_OPS = [
  reluOp,
  ...sigmoidOps,
  ...tanhOps,
  ...leakyReluOps,
  ...eluOps,
  ...geluOps,
  ...geluTanhOps,
  ...siluOps,
  ...softplusOps,
  ...softmaxOps,
] as const;
