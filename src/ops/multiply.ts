// multiply: y = a · b (the multiply merge layer). Backward: da = dy · b, db = dy · a (multiply again).
import { binaryOp } from './merge_binary.js';

export const multiplyOp = binaryOp('multiply', {
  id: 2, code: 42, wasmFn: 'multiply', formula: 'a · b',
  f: (a, b) => Math.fround(a * b),
  backward: (op, grad) => [
    { kind: 'multiply', layer: op.layer, a: grad(op.y), b: op.b, y: grad(op.a), features: op.features },
    { kind: 'multiply', layer: op.layer, a: grad(op.y), b: op.a, y: grad(op.b), features: op.features },
  ] as never,
});
