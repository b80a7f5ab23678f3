// A layer's kernel_regularizer (Keras L1L2) as its kernel's ParamDecl
// field: nothing when absent or all zero (no op is emitted for it).

import type { RegularizerSpec } from '../config/types.js';
import type { Regularizer } from './types.js';

export function regularizerOf(spec: RegularizerSpec | undefined): { regularizer?: Regularizer } {
  const l1 = spec?.l1 ?? 0, l2 = spec?.l2 ?? 0;
  return l1 > 0 || l2 > 0 ? { regularizer: { l1, l2 } } : {};
}
