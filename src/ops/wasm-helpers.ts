// Plan records that are not graph ops: bookkeeping the wasm plan adds
// itself. `transpose` refreshes the transposed copy of each kernel that
// dense_backward_input reads (it runs after Adam, once per step), because
// reading W transposed in place is ~30% slower than a packed copy.
// `max_pool_conv_weights` runs a max_pool2d_backward record and the
// conv2d_backward_weights record after it one image chunk at a time
// (src/runtime/wasm/fuse.ts says when; kernels/as/pool_conv_weights.ts).

import { GEOMETRY_ARGS, GEOMETRY_FIELDS, GEOMETRY_PARAMS } from './conv2d_shared.js';
import type { WasmSpec } from './types.js';

export interface WasmHelper extends Omit<WasmSpec<never>, 'encode'> { name: string }

export const WASM_HELPERS: readonly WasmHelper[] = [
  {
    name: 'transpose',
    code: 9,
    fn: 'transpose',
    module: './elementwise',
    fields: [['w', 'ptr'], ['wt', 'ptr'], ['k', 'i32'], ['n', 'i32']],
    params: [['w', 'usize'], ['wt', 'usize'], ['K', 'i32'], ['N', 'i32']],
    args: '{w}, {wt}, {k}, {n}',
  },
  {
    name: 'max_pool_conv_weights',
    code: 53,
    fn: 'maxPoolConvWeights',
    module: './pool_conv_weights',
    fields: [['dp', 'ptr'], ['y', 'ptr'], ['dy', 'ptr'], ['x', 'ptr'], ['dw', 'ptr'], ['db', 'ptr'], ...GEOMETRY_FIELDS, ['sparse', 'i32']],
    params: [['dp', 'usize'], ['y', 'usize'], ['dy', 'usize'], ['x', 'usize'], ['dw', 'usize'], ['db', 'usize'], ...GEOMETRY_PARAMS, ['sparse', 'i32']],
    args: `{dp}, {y}, {dy}, {x}, {dw}, {db}, ${GEOMETRY_ARGS}, {sparse}`,
  },
];

/** Custom kernels run under the op's code plus this (kernels/as/dispatch.generated.ts calls env.custom_<op>). */
export const CUSTOM_CODE_OFFSET = 128;
