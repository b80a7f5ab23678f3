// Activations as layers see them: a Keras activation (a name, or an object
// with its settings) resolved to a registered op, and the lowering shared
// by the dense layer's epilogue and the standalone activation layer. ReLU is
// special: dense_forward fuses it, and the layer above may apply its mask
// inside dense_backward_input, so it is tracked on the tensor.

import type { ActivationSpec } from '../config/types.js';
import type { Grad, GraphBuilder, LoweredLayer, Tensor } from './types.js';

/** An activation resolved to the op that computes it. */
export interface ResolvedActivation {
  /** Keras name, for summaries. */
  name: string;
  /** The registered forward op ('relu', 'sigmoid', 'gelu_tanh', …); null for linear. */
  op: string | null;
  /** negative_slope of leaky_relu, alpha of elu; 0 otherwise. */
  alpha: number;
}

export function resolveActivation(a: ActivationSpec | undefined): ResolvedActivation {
  const spec = typeof a === 'object' ? a : { type: a ?? 'linear' };
  switch (spec.type) {
    case 'linear': return { name: 'linear', op: null, alpha: 0 };
    case 'leaky_relu': return { name: 'leaky_relu', op: 'leaky_relu', alpha: spec.negative_slope ?? 0.2 };
    case 'elu': return { name: 'elu', op: 'elu', alpha: spec.alpha ?? 1 };
    case 'gelu': return spec.approximate ? { name: 'gelu (tanh approximation)', op: 'gelu_tanh', alpha: 0 } : { name: 'gelu', op: 'gelu', alpha: 0 };
    case 'swish': return { name: 'silu', op: 'silu', alpha: 0 };
    // Every other Keras name is the registered op's kind (the schema's enum lists them).
    default: return { name: spec.type, op: spec.type, alpha: 0 };
  }
}

/**
 * Adds the activation `act` applied to `x` (an op writing `out`), and returns
 * the lowered layer piece whose backward turns dLoss/d(out) into dLoss/dx.
 */
export function lowerActivation(act: ResolvedActivation, layer: string, x: Tensor, out: string, g: GraphBuilder): LoweredLayer {
  if (act.op === null) return { output: { ...x } };
  const features = x.features;
  const y = g.activation(out, features);
  const softmax = act.op === 'softmax';
  g.forward({ kind: act.op, layer, x: x.buffer, y, features, alpha: act.alpha } as never);
  const output: Tensor = { ...x, buffer: y, reluOutput: act.op === 'relu' };
  return {
    output,
    backward(dOut: Grad) {
      if (act.op === 'relu' && dOut.reluApplied) return [{ buffer: dOut.buffer, reluApplied: false }];
      const dx = g.gradient(`grad:${x.buffer}`, features);
      if (act.op === 'relu') g.backward({ kind: 'relu_backward', layer, dy: dOut.buffer, y, dx, features } as never);
      else if (softmax) g.backward({ kind: 'softmax_backward', layer, dy: dOut.buffer, y, dx, features } as never);
      else g.backward({ kind: `${act.op}_backward`, layer, dy: dOut.buffer, x: x.buffer, y, dx, features, alpha: act.alpha } as never);
      return [{ buffer: dx, reluApplied: false }];
    },
  };
}

/**
 * The activation after a linear op (dense, conv2d). `start` allocates the
 * linear op's output z (the pre-activation, or the layer's output when the
 * activation is linear or a ReLU fused into the op); after the caller has
 * emitted the linear op, `finish` adds a separate activation op when there
 * is one and gives the layer's output tensor and the backward step from
 * dLoss/d(output) to dLoss/dz.
 */
export function activationEpilogue(act: ResolvedActivation, layer: string, features: number, g: GraphBuilder): {
  z: string;
  /** Whether the linear op applies the ReLU itself. */
  relu: boolean;
  finish(shape: number[]): { output: Tensor; toPreactivation(dOut: Grad): Grad };
} {
  const relu = act.op === 'relu';
  const separate = act.op !== null && !relu;
  const z = g.activation(separate ? `${layer}/preact` : `${layer}/out`, features);
  return {
    z,
    relu,
    finish(shape) {
      const zTensor: Tensor = { buffer: z, shape, features, needsGrad: true, reluOutput: relu };
      const epilogue = separate ? lowerActivation(act, layer, zTensor, `${layer}/out`, g) : { output: zTensor };
      return {
        output: { ...epilogue.output, shape },
        toPreactivation(dOut) {
          if (separate) return epilogue.backward!(dOut)[0]!;
          if (!relu || dOut.reluApplied) return dOut;
          const pre = g.gradient(`grad:${layer}/preact`, features);
          g.backward({ kind: 'relu_backward', layer, dy: dOut.buffer, y: z, dx: pre, features } as never);
          return { buffer: pre, reluApplied: true };
        },
      };
    },
  };
}
