// subtract: y = a − b (the subtract merge layer). Backward: da = dy, db = −dy.
import { binaryOp } from './merge_binary.js';

export const subtractOp = binaryOp('subtract', {
  id: 1, code: 41, wasmFn: 'subtract', formula: 'a − b',
  f: (a, b) => a - b,
  backward: (op, grad) => [
    { kind: 'scale', layer: op.layer, x: grad(op.y), y: grad(op.a), features: op.features, s: 1 },
    { kind: 'scale', layer: op.layer, x: grad(op.y), y: grad(op.b), features: op.features, s: -1 },
  ] as never,
});
