// add: y = a + b (the add merge layer). Its backward passes dy to both inputs unchanged.
import { binaryOp } from './merge_binary.js';

export const addOp = binaryOp('add', {
  id: 0, code: 40, wasmFn: 'add', formula: 'a + b',
  f: (a, b) => a + b,
  backward: (op, grad) => [
    { kind: 'scale', layer: op.layer, x: grad(op.y), y: grad(op.a), features: op.features, s: 1 },
    { kind: 'scale', layer: op.layer, x: grad(op.y), y: grad(op.b), features: op.features, s: 1 },
  ] as never,
});
