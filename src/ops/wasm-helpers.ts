// Plan records that are not graph ops: bookkeeping the wasm plan adds
// itself. `transpose` refreshes the transposed copy of each kernel that
// dense_backward_input reads (it runs after Adam, once per step), because
// reading W transposed in place is ~30% slower than a packed copy.

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
];

/** Custom kernels run under the op's code plus this (kernels/as/dispatch.generated.ts calls env.custom_<op>). */
export const CUSTOM_CODE_OFFSET = 128;
