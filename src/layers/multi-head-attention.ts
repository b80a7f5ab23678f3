// multi_head_attention (Keras MultiHeadAttention), as self-attention on one
// input [T, F]: query, key and value projections (kernels [F, heads,
// key_dim] / [F, heads, value_dim], biases [heads, dim], saved under Keras's
// names query/kernel, key/kernel, value/kernel, attention_output/kernel …),
// scores softmax(q·kᵀ/√key_dim) with an optional causal mask, dropout on
// the probabilities (training only), the weighted sum of the values, and
// the output projection [heads, value_dim, F] back to F features.
//
// Composed from ops: four dense_forward on the sequence (src/ops, seq = T),
// attention_scores, dropout, attention_values. Backward in reverse; the
// input's gradient is the sum of the three projections' input gradients
// (query, key, value order, with add ops).

import type { MultiHeadAttentionLayerSpec } from '../config/types.js';
import type { ParamDecl } from './types.js';
import { fmtShape, type Grad, type LayerDef } from './types.js';

interface Dims { T: number; F: number; H: number; dk: number; dv: number }

function dimsOf(spec: MultiHeadAttentionLayerSpec, input: readonly number[]): Dims {
  return { T: input[0] ?? 1, F: input[1] ?? 1, H: spec.num_heads, dk: spec.key_dim, dv: spec.value_dim ?? spec.key_dim };
}

/** The projections' weights in Keras's order and layouts. */
function weights(spec: MultiHeadAttentionLayerSpec, d: Dims): ParamDecl[] {
  const out: ParamDecl[] = [];
  const proj = (name: string, width: number) => {
    out.push({ name: `${name}/kernel`, shape: [d.F, d.H, width], init: 'glorot_uniform', fanIn: d.F, fanOut: d.H * width });
    if (spec.use_bias) out.push({ name: `${name}/bias`, shape: [d.H, width], init: 'zeros', fanIn: d.F, fanOut: d.H * width });
  };
  proj('query', d.dk);
  proj('key', d.dk);
  proj('value', d.dv);
  out.push({ name: 'attention_output/kernel', shape: [d.H, d.dv, d.F], init: 'glorot_uniform', fanIn: d.H * d.dv, fanOut: d.F });
  if (spec.use_bias) out.push({ name: 'attention_output/bias', shape: [d.F], init: 'zeros', fanIn: d.H * d.dv, fanOut: d.F });
  return out;
}

export const multiHeadAttentionLayer: LayerDef<MultiHeadAttentionLayerSpec> = {
  type: 'multi_head_attention',
  infer(spec, [input], ctx) {
    if (input!.length !== 2) {
      ctx.error({ path: ctx.path, message: `multi_head_attention needs a sequence [T, features] but gets shape ${fmtShape(input!)}`, hint: 'put it after an embedding layer' });
    }
    const d = dimsOf(spec, input!);
    return { outputShape: [d.T, d.F], params: weights(spec, d) };
  },
  lower(spec, info, [x], g) {
    const d = dimsOf(spec, x!.shape);
    const { T, F, H, dk, dv } = d;
    const L = info.name;
    const decls = weights(spec, d);
    const param = (name: string) => {
      const decl = decls.find((p) => p.name === name);
      return decl ? g.param(L, decl) : null;
    };
    const projections = (['query', 'key', 'value'] as const).map((name) => {
      const width = name === 'value' ? dv : dk;
      const w = param(`${name}/kernel`)!, b = param(`${name}/bias`);
      const y = g.activation(`${L}/${name}`, T * H * width);
      g.forward({ kind: 'dense_forward', layer: L, x: x!.buffer, w, b, y, k: F, n: H * width, relu: false, seq: T } as never);
      return { name, w, b, y, width };
    });
    const [q, k, v] = projections as [typeof projections[0], typeof projections[0], typeof projections[0]];
    const scale = 1 / Math.sqrt(dk);
    const probs = g.activation(`${L}/probs`, H * T * T);
    g.forward({ kind: 'attention_scores', layer: L, q: q.y, k: k.y, probs, seq: T, heads: H, keyDim: dk, causal: spec.use_causal_mask, scale } as never);
    let attended = probs;
    const stream = g.stream(info.index);
    if (spec.dropout > 0) {
      attended = g.activation(`${L}/probs_dropped`, H * T * T);
      g.trainOnly({ kind: 'dropout', layer: L, x: probs, y: attended, features: H * T * T, rate: spec.dropout, stream } as never, probs, attended);
    }
    const o = g.activation(`${L}/attended`, T * H * dv);
    g.forward({ kind: 'attention_values', layer: L, probs: attended, v: v.y, o, seq: T, heads: H, valueDim: dv } as never);
    const wo = param('attention_output/kernel')!, bo = param('attention_output/bias');
    const y = g.activation(`${L}/out`, T * F);
    g.forward({ kind: 'dense_forward', layer: L, x: o, w: wo, b: bo, y, k: H * dv, n: F, relu: false, seq: T } as never);

    return {
      output: { buffer: y, shape: [T, F], features: T * F, needsGrad: true, reluOutput: false },
      backward(dOut) {
        const denseBack = (input: string, dy: string, w: string, b: string | null, kIn: number, n: number, dx: string | null) => {
          g.backward({ kind: 'dense_backward_weights', layer: L, x: input, dy, dw: `${w}:grad`, db: b ? `${b}:grad` : null, k: kIn, n, seq: T } as never);
          if (dx) g.backward({ kind: 'dense_backward_input', layer: L, dy, w, dx, reluOut: null, k: kIn, n, seq: T } as never);
        };
        const dO = g.gradient(`grad:${o}`, T * H * dv);
        denseBack(o, dOut.buffer, wo, bo, H * dv, F, dO);
        const dAttended = g.gradient(`grad:${attended}`, H * T * T);
        const dV = g.gradient(`grad:${v.y}`, T * H * dv);
        g.backward({ kind: 'attention_values_backward', layer: L, dout: dO, probs: attended, v: v.y, dprobs: dAttended, dv: dV, seq: T, heads: H, valueDim: dv } as never);
        let dProbs = dAttended;
        if (spec.dropout > 0) {
          dProbs = g.gradient(`grad:${probs}`, H * T * T);
          g.backward({ kind: 'dropout_backward', layer: L, dy: dAttended, dx: dProbs, features: H * T * T, rate: spec.dropout, stream } as never);
        }
        const dQ = g.gradient(`grad:${q.y}`, T * H * dk), dK = g.gradient(`grad:${k.y}`, T * H * dk);
        const ds = g.gradient(`${L}/ds`, H * T * T);
        g.backward({ kind: 'attention_scores_backward', layer: L, dprobs: dProbs, probs, q: q.y, k: k.y, dq: dQ, dk: dK, ds, seq: T, heads: H, keyDim: dk, scale } as never);
        const dProj = [dQ, dK, dV];
        const dxs: string[] = [];
        projections.forEach((p, i) => {
          const dx = x!.needsGrad ? g.gradient(`grad:${x!.buffer}:${p.name}`, T * F) : null;
          denseBack(x!.buffer, dProj[i]!, p.w, p.b, F, H * p.width, dx);
          if (dx) dxs.push(dx);
        });
        if (!x!.needsGrad) return [null];
        // dx = dx_query + dx_key + dx_value, in that order.
        const sum1 = g.gradient(`grad:${x!.buffer}:qk`, T * F);
        g.backward({ kind: 'add', layer: L, a: dxs[0], b: dxs[1], y: sum1, features: T * F } as never);
        const dx = g.gradient(`grad:${x!.buffer}`, T * F);
        g.backward({ kind: 'add', layer: L, a: sum1, b: dxs[2], y: dx, features: T * F } as never);
        return [{ buffer: dx, reluApplied: false } as Grad];
      },
    };
  },
};
