// dense: Y = activation(X·W + b), W of shape [inputs, units] (Keras's
// kernel layout), Glorot-uniform kernel and zero bias as Keras initialises
// them. ReLU is fused into dense_forward; any other activation runs as its
// own op on the pre-activation. Backward: the activation's gradient (unless
// the layer above already applied the ReLU mask), then dW/db, then dX when
// something below needs it (with the ReLU mask of the layer below fused in).

import { regularizerOf } from './regularizer.js';
import type { DenseLayerSpec } from '../config/types.js';
import { activationEpilogue, resolveActivation } from './activation-lowering.js';
import { fmtShape, product, type LayerDef } from './types.js';

/** Positions and features of a dense layer's input: [F] is one position, [T, F] a sequence (the layer acts on the last axis, as in Keras). */
function positions(input: readonly number[]): { seq: number; k: number } {
  return input.length === 2 ? { seq: input[0]!, k: input[1]! } : { seq: 1, k: product(input) };
}

export const denseLayer: LayerDef<DenseLayerSpec> = {
  type: 'dense',
  infer(spec, [input], ctx) {
    if (input!.length > 2) {
      ctx.error({ path: ctx.path, message: `dense layer needs a flat input but gets shape ${fmtShape(input!)}`, hint: 'add a flatten layer before it' });
    }
    // Carry on as if flattened, so one mistake gives one error.
    const { seq, k } = positions(input!), n = spec.units;
    const activation = resolveActivation(spec.activation).name;
    if (seq > 1 && activation === 'softmax') {
      ctx.error({ path: [...ctx.path, 'activation'], message: `softmax on a dense layer over a sequence ${fmtShape(input!)} is not supported`, hint: 'keep the layer linear: the loss applies the softmax (from_logits: true)' });
    }
    const params = [{ name: 'kernel', shape: [k, n], init: 'glorot_uniform' as const, fanIn: k, fanOut: n }];
    if (spec.use_bias) params.push({ name: 'bias', shape: [n], init: 'zeros' as never, fanIn: k, fanOut: n });
    return { outputShape: input!.length === 2 ? [seq, n] : [n], params, activation };
  },
  lower(spec, info, [x], g) {
    const { seq, k } = positions(x!.shape), n = spec.units;
    const decl = { fanIn: k, fanOut: n };
    const w = g.param(info.name, { name: 'kernel', shape: [k, n], init: 'glorot_uniform', ...decl, ...regularizerOf(spec.kernel_regularizer) });
    const b = spec.use_bias === false ? null : g.param(info.name, { name: 'bias', shape: [n], init: 'zeros', ...decl });
    const ep = activationEpilogue(resolveActivation(spec.activation), info.name, seq * n, g);
    // Records carry `seq` only on a sequence, so a plain dense layer's ops are as before.
    const along = seq > 1 ? { seq } : {};
    g.forward({ kind: 'dense_forward', layer: info.name, x: x!.buffer, w, b, y: ep.z, k, n, relu: ep.relu, ...along } as never);
    const { output, toPreactivation } = ep.finish(x!.shape.length === 2 ? [seq, n] : [n]);
    return {
      output,
      backward(dOut) {
        const dz = toPreactivation(dOut);
        g.backward({ kind: 'dense_backward_weights', layer: info.name, x: x!.buffer, dy: dz.buffer, dw: `${w}:grad`, db: b ? `${b}:grad` : null, k, n, ...along } as never);
        if (!x!.needsGrad) return [null];
        const dx = g.gradient(`grad:${x!.buffer}`, seq * k);
        const reluOut = x!.reluOutput ? x!.buffer : null;
        g.backward({ kind: 'dense_backward_input', layer: info.name, dy: dz.buffer, w, dx, reluOut, k, n, ...along } as never);
        return [{ buffer: dx, reluApplied: reluOut !== null }];
      },
    };
  },
};
