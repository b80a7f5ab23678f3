// Record fusion in the one-thread wasm plan: a max_pool2d_backward record
// followed by the conv2d_backward_weights record that reads its dx as dy
// (the MNIST convnet's first conv: the pool's gradient goes nowhere else
// first) becomes one max_pool_conv_weights record, which runs the two
// kernels one image chunk at a time (kernels/as/pool_conv_weights.ts) so
// that dW reads dy from cache instead of streaming 11 MB back from memory.
// The same numbers bit for bit: the pool's 2×2/2 windows do not overlap and
// dW/db add the pixels in the same order (test/pool-conv-fusion.test.ts).
// Threads keep the two records: they split them differently (the pool by
// examples, dW by taps).

import { conv2dBackwardWeightsOp, type Conv2dBackwardWeightsOp } from '../../ops/conv2d_backward_weights.js';
import { maxPool2dBackwardOp, type MaxPool2dBackwardOp } from '../../ops/pool2d.js';
import { WASM_HELPERS } from '../../ops/wasm-helpers.js';
import type { PlanRecord } from './schedule.js';

const FUSED = WASM_HELPERS.find((h) => h.name === 'max_pool_conv_weights')!.code;
/** kernels/as/conv_small_taps.ts SMALL_T: the longest window (kH·kW·inC) of the short-window dW kernels. */
const SMALL_T = 32;

/** Whether the pool record's dx feeds the conv record's dW as a fused pair may run it. */
export function fusible(pool: MaxPool2dBackwardOp, conv: Conv2dBackwardWeightsOp): boolean {
  const taps = conv.kH * conv.kW * conv.inC;
  return conv.dy === pool.dx && pool.kH === 2 && pool.kW === 2 && pool.strideH === 2 && pool.strideW === 2 &&
    pool.padTop === 0 && pool.padLeft === 0 && pool.inH === conv.outH && pool.inW === conv.outW && pool.channels === conv.outC &&
    pool.outH === conv.outH >> 1 && pool.outW === conv.outW >> 1 && taps <= SMALL_T && conv.outC % 4 === 0;
}

/** The records with each fusible (built-in, not custom) pool-then-conv-dW pair replaced by one max_pool_conv_weights record. */
export function fusePoolConvWeights(records: PlanRecord[]): PlanRecord[] {
  const out: PlanRecord[] = [];
  for (let i = 0; i < records.length; i++) {
    const a = records[i]!, b = records[i + 1];
    if (b && a.words[0] === maxPool2dBackwardOp.wasm.code && b.words[0] === conv2dBackwardWeightsOp.wasm.code &&
      fusible(a.op as unknown as MaxPool2dBackwardOp, b.op as unknown as Conv2dBackwardWeightsOp)) {
      // pool: [code, dy, x, dx, geometry ×6]; conv: [code, x, dy, dw, db, geometry ×8, sparse].
      const [p, c] = [a.words, b.words];
      out.push({ op: { kind: 'max_pool_conv_weights', pool: a.op, conv: b.op }, words: [FUSED, p[1]!, p[2]!, p[3]!, c[1]!, c[3]!, c[4]!, ...c.slice(5, 14)] });
      i++;
    } else out.push(a);
  }
  return out;
}
