// The merge layers (Keras Add, Subtract, Multiply, Average, Concatenate):
// two or more inputs of one shape (concatenate: equal but for `axis`) make
// one output. n inputs lower to a chain of n − 1 binary ops in input order,
// so the sum (or product, or concatenation) is formed in a fixed order.
// Backward: add passes dy to every input unchanged; subtract negates it for
// the second input; average scales it by 1/n; multiply multiplies it by the
// other factors (the chain's partial products); concatenate splits it.
// No parameters.

import type { ConcatenateLayerSpec, MergeLayerSpec } from '../config/types.js';
import { fmtShape, product, type Grad, type GraphBuilder, type InferContext, type LayerDef, type Tensor } from './types.js';

const ANY: readonly [number, number] = [2, Infinity];

function describeInputs(shapes: number[][], ctx: InferContext): string {
  return shapes.map((s, i) => `${ctx.inputNames?.[i] ?? `input ${i + 1}`} ${fmtShape(s)}`).join(', ');
}

function sameShapes(kind: string, shapes: number[][], ctx: InferContext): number[] {
  const first = shapes[0] ?? [];
  if (shapes.some((s) => fmtShape(s) !== fmtShape(first))) {
    ctx.error({
      path: [...ctx.path, 'inputs'],
      message: `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} layer needs inputs of one shape, but gets ${describeInputs(shapes, ctx)}`,
      hint: 'give the branches the same output shape (e.g. the same dense units)',
    });
  }
  return [...first];
}

/** The activation buffer of a chain's k-th partial result (the last one is the layer's output). */
const partial = (layer: string, k: number, last: boolean) => (last ? `${layer}:out` : `${layer}:partial${k}`);

const tensorOf = (buffer: string, shape: number[]): Tensor => ({ buffer, shape, features: product(shape), needsGrad: true, reluOutput: false });

/** Left-to-right chain of a binary op over the inputs; returns the partial results (the last is the output). */
function chain(kind: 'add' | 'multiply' | 'subtract', layer: string, inputs: Tensor[], g: GraphBuilder): string[] {
  const F = inputs[0]!.features;
  const partials: string[] = [];
  let acc = inputs[0]!.buffer;
  for (let k = 1; k < inputs.length; k++) {
    const y = g.activation(partial(layer, k, k === inputs.length - 1), F);
    g.forward({ kind, layer, a: acc, b: inputs[k]!.buffer, y, features: F } as never);
    partials.push(y);
    acc = y;
  }
  return partials;
}

const passThrough = (inputs: Tensor[], buffer: string): (Grad | null)[] =>
  inputs.map((x) => (x.needsGrad ? { buffer, reluApplied: false } : null));

function elementwiseLayer(type: MergeLayerSpec['type']): LayerDef<MergeLayerSpec> {
  return {
    type,
    inputCount: type === 'subtract' ? [2, 2] : ANY,
    infer: (_spec, shapes, ctx) => ({ outputShape: sameShapes(type, shapes, ctx), params: [] }),
    lower(_spec, info, inputs, g) {
      const F = inputs[0]!.features, layer = info.name;
      if (type === 'add' || type === 'subtract') {
        const out = chain(type, layer, inputs, g).at(-1)!;
        return {
          output: tensorOf(out, inputs[0]!.shape),
          backward(dOut) {
            const grads = passThrough(inputs, dOut.buffer);
            if (type === 'subtract' && grads[1]) {
              const neg = g.gradient(`grad:${layer}:negated`, F);
              g.backward({ kind: 'scale', layer, x: dOut.buffer, y: neg, features: F, s: -1 } as never);
              grads[1] = { buffer: neg, reluApplied: false };
            }
            return grads;
          },
        };
      }
      if (type === 'average') {
        const sum = chain('add', `${layer}:sum`, inputs, g).at(-1)!;
        const out = g.activation(`${layer}:out`, F);
        g.forward({ kind: 'scale', layer, x: sum, y: out, features: F, s: 1 / inputs.length } as never);
        return {
          output: tensorOf(out, inputs[0]!.shape),
          backward(dOut) {
            const scaled = g.gradient(`grad:${layer}:scaled`, F);
            g.backward({ kind: 'scale', layer, x: dOut.buffer, y: scaled, features: F, s: 1 / inputs.length } as never);
            return passThrough(inputs, scaled);
          },
        };
      }
      // multiply: partials p_k = p_{k−1} · x_k (p_0 = x_0). From the top:
      // dp_{k−1} = dp_k · x_k and dx_k = dp_k · p_{k−1}.
      const partials = chain('multiply', layer, inputs, g);
      return {
        output: tensorOf(partials.at(-1)!, inputs[0]!.shape),
        backward(dOut) {
          const grads: (Grad | null)[] = inputs.map(() => null);
          let dp = dOut.buffer;
          for (let k = inputs.length - 1; k >= 1; k--) {
            const below = k === 1 ? inputs[0]!.buffer : partials[k - 2]!;
            if (inputs[k]!.needsGrad) {
              const dx = g.gradient(`grad:${layer}:input${k}`, F);
              g.backward({ kind: 'multiply', layer, a: dp, b: below, y: dx, features: F } as never);
              grads[k] = { buffer: dx, reluApplied: false };
            }
            const needBelow = k === 1 ? inputs[0]!.needsGrad : inputs.slice(0, k).some((x) => x.needsGrad);
            if (!needBelow) break;
            const dBelow = g.gradient(k === 1 ? `grad:${layer}:input0` : `grad:${partials[k - 2]!}`, F);
            g.backward({ kind: 'multiply', layer, a: dp, b: inputs[k]!.buffer, y: dBelow, features: F } as never);
            if (k === 1) grads[0] = { buffer: dBelow, reluApplied: false };
            dp = dBelow;
          }
          return grads;
        },
      };
    },
  };
}

export const addLayer = elementwiseLayer('add');
export const subtractLayer = elementwiseLayer('subtract');
export const multiplyLayer = elementwiseLayer('multiply');
export const averageLayer = elementwiseLayer('average');

/** The axis as an index into an example's shape, or null when out of range. */
function normalAxis(axis: number, rank: number): number | null {
  const a = axis < 0 ? rank + axis : axis;
  return a >= 0 && a < rank ? a : null;
}

export const concatenateLayer: LayerDef<ConcatenateLayerSpec> = {
  type: 'concatenate',
  inputCount: ANY,
  infer(spec, shapes, ctx) {
    const first = shapes[0] ?? [];
    const axis = normalAxis(spec.axis, first.length);
    if (axis === null) {
      ctx.error({ path: [...ctx.path, 'axis'], message: `axis ${spec.axis} is out of range for inputs of shape ${fmtShape(first)}`, hint: `use an axis from ${-first.length} to ${first.length - 1}` });
      return { outputShape: [...first], params: [] };
    }
    const others = (s: number[]) => fmtShape(s.filter((_, i) => i !== axis));
    if (shapes.some((s) => s.length !== first.length || others(s) !== others(first))) {
      ctx.error({
        path: [...ctx.path, 'inputs'],
        message: `a concatenate layer on axis ${spec.axis} needs inputs that agree on every other axis, but gets ${describeInputs(shapes, ctx)}`,
        hint: 'reshape or pool the branches to matching shapes first',
      });
      return { outputShape: [...first], params: [] };
    }
    const out = [...first];
    out[axis] = shapes.reduce((sum, s) => sum + s[axis]!, 0);
    return { outputShape: out, params: [] };
  },
  lower(spec, info, inputs, g) {
    const shape0 = inputs[0]!.shape;
    const axis = normalAxis(spec.axis, shape0.length)!;
    const outer = product(shape0.slice(0, axis));
    const inner = product(shape0.slice(axis + 1));
    // Each link joins the running result (width wa per outer index) and the next input.
    const links: { a: string; b: string; y: string; wa: number; wb: number }[] = [];
    let acc = inputs[0]!.buffer, wa = shape0[axis]! * inner;
    for (let k = 1; k < inputs.length; k++) {
      const wb = inputs[k]!.shape[axis]! * inner;
      const y = g.activation(partial(info.name, k, k === inputs.length - 1), outer * (wa + wb));
      g.forward({ kind: 'concat', layer: info.name, a: acc, b: inputs[k]!.buffer, y, outer, wa, wb } as never);
      links.push({ a: acc, b: inputs[k]!.buffer, y, wa, wb });
      acc = y;
      wa += wb;
    }
    return {
      output: tensorOf(acc, [...info.outputShape]),
      backward(dOut) {
        const grads: (Grad | null)[] = inputs.map(() => null);
        let dy = dOut.buffer;
        for (let k = links.length; k >= 1; k--) {
          const link = links[k - 1]!;
          const da = g.gradient(k === 1 ? `grad:${info.name}:input0` : `grad:${link.a}`, outer * link.wa);
          const db = g.gradient(`grad:${info.name}:input${k}`, outer * link.wb);
          g.backward({ kind: 'split', layer: info.name, dy, da, db, outer, wa: link.wa, wb: link.wb } as never);
          if (inputs[k]!.needsGrad) grads[k] = { buffer: db, reluApplied: false };
          dy = da;
        }
        if (inputs[0]!.needsGrad) grads[0] = { buffer: dy, reluApplied: false };
        return grads;
      },
    };
  },
};
