// dropout and dropout_backward: inverted dropout with a mask from the
// counter RNG. Element i is kept iff (hashAt(key, i) >>> 8) >=
// dropoutThreshold(rate), key = rngKey(seed, stream, step); kept values are
// scaled by 1/(1 − rate). The backward op recomputes the same mask from the
// counter (never stored), so one kernel serves both. Identity at inference
// (the graph leaves it out).

import { dropoutScale, dropoutThreshold, hashAt, rngKey } from '../runtime/rng.js';
import { defineOp, f32Bits, grid1d, NO_OPTIMIZER, type OpDef, type OpRecordBase } from './types.js';

export interface DropoutOp extends OpRecordBase { kind: 'dropout'; x: string; y: string; features: number; rate: number; stream: number }
export interface DropoutBackwardOp extends OpRecordBase { kind: 'dropout_backward'; dy: string; dx: string; features: number; rate: number; stream: number }

export function dropout(X: Float32Array, Y: Float32Array, n: number, key: number, rate: number): void {
  const threshold = dropoutThreshold(rate);
  const scale = dropoutScale(rate);
  for (let i = 0; i < n; i++) Y[i] = hashAt(key, i) >>> 8 >= threshold ? X[i]! * scale : 0;
}

/** The keep-mask (1 kept, 0 dropped), for tests and debugging. */
export function dropoutMask(n: number, key: number, rate: number): Uint8Array {
  const threshold = dropoutThreshold(rate);
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = hashAt(key, i) >>> 8 >= threshold ? 1 : 0;
  return mask;
}

/** The two ops differ only in which buffers they name. */
function dropoutDef<T extends DropoutOp | DropoutBackwardOp>(kind: T['kind'], io: (op: T) => [string, string], summary: string): OpDef<T> {
  return defineOp<T>({
    kind,
    summary,
    buffers: (op) => ({ reads: [io(op)[0]], writes: [io(op)[1]] }),
    reference: (op, e) => dropout(e.buf(io(op)[0]), e.buf(io(op)[1]), e.rows * op.features, rngKey(e.seed, op.stream, e.step), op.rate),
    wasm: {
      code: kind === 'dropout' ? 3 : 10,
      fn: 'dropout',
      module: './elementwise',
      fields: [['x', 'ptr'], ['y', 'ptr'], ['features', 'i32'], ['stream', 'u32'], ['threshold', 'i32'], ['scale', 'f32']],
      params: [['x', 'usize'], ['y', 'usize'], ['n', 'i32'], ['key', 'u32'], ['threshold', 'i32'], ['scale', 'f32']],
      imports: [['rngKey', './rng']],
      args: '{x}, {y}, rows * {features}, rngKey(gSeed, {stream}, <u32>step), {threshold}, {scale}',
      encode: (op, L) => [L.ptr(io(op)[0]), L.ptr(io(op)[1]), op.features, op.stream, dropoutThreshold(op.rate), f32Bits(dropoutScale(op.rate))],
    },
    webgpu: {
      kernels: { dropout: ['read', 'rw'] },
      async dispatches(op, env) {
        const [src, dst] = io(op);
        const c = { FEATURES: op.features, THRESHOLD: dropoutThreshold(op.rate), SCALE: dropoutScale(op.rate), KEY_SLOT: env.keySlot(op.stream) };
        const b = [env.range(src), env.range(dst)];
        const detail = `${op.layer} ${kind === 'dropout' ? 'forward' : 'backward'}`;
        if (env.custom) return [await env.custom(detail, c, b, env.B, op.features)];
        return [await env.dispatch('dropout', detail, c, b, grid1d(env.B * op.features))];
      },
    },
    bench: {
      shape: 'M,F',
      dims: (op, B) => [B, op.features],
      fromMKN: ([M, , N]) => [M, N],
      work: ([M, F]) => ({ flops: M! * F!, bytes: 8 * M! * F!, unit: 'GB/s' }),
      instance: ([M, F], random) => {
        const [src, dst] = kind === 'dropout' ? ['x', 'y'] : ['dy', 'dx'];
        const op = (kind === 'dropout'
          ? { kind, layer: 'bench', x: src, y: dst, features: F!, rate: 0.2, stream: 16 }
          : { kind, layer: 'bench', dy: src, dx: dst, features: F!, rate: 0.2, stream: 16 }) as T;
        return { op, rows: M!, inputs: { [src]: random(M! * F!, 3) }, outputs: { [dst]: M! * F! }, step: 3, seed: 42, optimizer: NO_OPTIMIZER };
      },
    },
    custom: {
      bindings: [{ name: 'x', access: 'read' }, { name: 'y', access: 'rw' }],
      overrides: ['FEATURES', 'THRESHOLD', 'SCALE', 'KEY_SLOT'],
      output: ([M, F]) => [M!, F!],
      outputNames: ['M', 'F'],
      computes: 'y = x · SCALE where (hash_at(ctx.keys[KEY_SLOT], i) >> 8) >= THRESHOLD, else 0',
    },
  });
}

export const dropoutOp: OpDef<DropoutOp> = {
  ...dropoutDef<DropoutOp>('dropout', (op) => [op.x, op.y], 'inverted dropout, mask from the counter RNG'),
  gradient: {
    wrt: (op) => [op.x],
    backward: (op, grad) => ({ ops: [{ kind: 'dropout_backward', layer: op.layer, dy: grad(op.y), dx: grad(op.x), features: op.features, rate: op.rate, stream: op.stream } as OpRecordBase] }),
  },
};
export const dropoutBackwardOp = dropoutDef<DropoutBackwardOp>('dropout_backward', (op) => [op.dy, op.dx], 'the same mask and scale applied to dY');
