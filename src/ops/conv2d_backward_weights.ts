// conv2d_backward_weights: dw = dL/dw of conv2d_forward (HWIO) and
// db[oc] = Σ of dy over the batch's pixels:
//   dw[kh, kw, ic, oc] = Σ_{b, oh, ow} x[b, oh·sH + kh·dH − padTop, ow·sW + kw·dW − padLeft, ic] · dy[b, oh, ow, oc]
// wasm: per tile of output pixels im2col (as the forward), then
// colᵀ·dy with the dense gemm, added into dw. WebGPU, where outC is a
// multiple of 4: where inC is a multiple of 16, each invocation sums all
// pixels for 16 rows (kh, kw, ic…) × 8 output channels
// (kernels/wgsl/conv2d_backward_weights_vec4.wgsl); else one workgroup per
// block of 4 rows × 8 output channels, its 64 invocations splitting the
// pixels and reducing in workgroup memory (_blocked); both deterministic;
// else (and with convKernels: 'direct') one row × 4 channels per
// workgroup. db is its own kernel (conv2d_bias_grad, vec4 loads where outC
// allows), also after a user's dw kernel.

import { CONV_CASES, CONV_SHAPE, convFlops, dimsFromMKN, dimsOf, encodeGeometry, GEOMETRY_ARGS, GEOMETRY_FIELDS, GEOMETRY_OVERRIDES, GEOMETRY_PARAMS, geometryConstants, geometryOf, sizes, type Conv2dGeometry } from './conv2d_shared.js';
import { blockWorkgroup } from './conv-grid.js';
import { defineOp, NO_OPTIMIZER, present, type OpRecordBase } from './types.js';

export interface Conv2dBackwardWeightsOp extends OpRecordBase, Conv2dGeometry {
  kind: 'conv2d_backward_weights'; x: string; dy: string; dw: string; db: string | null;
}

/** The reference: for each tap, the products of the input pixel under it and dy, in f64; db the pixel sums of dy. */
export function conv2dBackwardWeights(X: Float32Array, dY: Float32Array, dW: Float32Array, db: Float32Array | null, B: number, g: Conv2dGeometry): void {
  const { inH, inW, inC, outH, outW, outC } = g;
  const acc = new Float64Array(g.kH * g.kW * inC * outC);
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        const yo = ((b * outH + oh) * outW + ow) * outC;
        for (let kh = 0; kh < g.kH; kh++) {
          const ih = oh * g.strideH + kh * g.dilationH - g.padTop;
          if (ih < 0 || ih >= inH) continue;
          for (let kw = 0; kw < g.kW; kw++) {
            const iw = ow * g.strideW + kw * g.dilationW - g.padLeft;
            if (iw < 0 || iw >= inW) continue;
            const xo = ((b * inH + ih) * inW + iw) * inC, wo = (kh * g.kW + kw) * inC * outC;
            for (let ic = 0; ic < inC; ic++) {
              const xv = X[xo + ic]!;
              if (xv === 0) continue;
              const wr = wo + ic * outC;
              for (let oc = 0; oc < outC; oc++) acc[wr + oc]! += xv * dY[yo + oc]!;
            }
          }
        }
      }
    }
  }
  dW.set(acc);
  if (db) {
    const s = new Float64Array(outC);
    const P = B * outH * outW;
    for (let p = 0; p < P; p++) for (let oc = 0; oc < outC; oc++) s[oc]! += dY[p * outC + oc]!;
    db.set(s);
  }
}

export const conv2dBackwardWeightsOp = defineOp<Conv2dBackwardWeightsOp>({
  kind: 'conv2d_backward_weights',
  summary: 'dw = dL/dw of conv2d_forward (HWIO), db = pixel sums of dy',
  buffers: (op) => ({ reads: [op.x, op.dy], writes: present(op.dw, op.db) }),
  reference: (op, e) => conv2dBackwardWeights(e.buf(op.x), e.buf(op.dy), e.buf(op.dw), op.db ? e.buf(op.db) : null, e.rows, op),
  wasm: {
    code: 52,
    fn: 'conv2dBackwardWeights',
    module: './conv_backward',
    fields: [['x', 'ptr'], ['dy', 'ptr'], ['dw', 'ptr'], ['db', 'ptr'], ...GEOMETRY_FIELDS, ['sparse', 'i32']],
    params: [['x', 'usize'], ['dy', 'usize'], ['dw', 'usize'], ['db', 'usize'], ...GEOMETRY_PARAMS, ['sparse', 'i32']],
    args: `{x}, {dy}, {dw}, {db}, ${GEOMETRY_ARGS}, {sparse}`,
    encode: (op, L) => [L.ptr(op.x), L.ptr(op.dy), L.ptr(op.dw), L.ptr(op.db), ...encodeGeometry(op), L.sparse(op.x) ? 1 : 0],
  },
  webgpu: {
    kernels: {
      conv2d_backward_weights: ['read', 'read', 'rw'],
      conv2d_bias_grad: ['read', 'rw'],
      conv2d_backward_weights_blocked: ['read', 'read', 'rw'],
      conv2d_backward_weights_vec4: ['read', 'read', 'rw'],
      conv2d_bias_grad_vec4: ['read', 'rw'],
    },
    async dispatches(op, env) {
      const io = [env.range(op.x), env.range(op.dy), env.range(op.dw)];
      const constants = geometryConstants(op);
      const taps = op.kH * op.kW * op.inC;
      const direct = env.prefer.conv === 'direct' || op.outC % 4 !== 0;
      const out = [];
      if (env.custom) out.push(await env.custom(op.layer, constants, io, taps, op.outC));
      else if (direct) {
        if (taps > 65535) throw new Error(`conv2d_backward_weights: ${taps} kernel rows (kH·kW·inC) exceed one dispatch (65535)`);
        out.push(await env.dispatch('conv2d_backward_weights', op.layer, constants, io, [taps, Math.ceil(op.outC / 4)]));
      } else {
        if (taps / 4 > 65535) throw new Error(`conv2d_backward_weights: ${taps} kernel rows (kH·kW·inC) exceed one dispatch (4 × 65535)`);
        if (op.inC % 16 === 0) {
          const wg = rowsWorkgroup(op.outC);
          out.push(await env.dispatch('conv2d_backward_weights_vec4', op.layer, { ...constants, ...wg }, io, [Math.ceil(Math.ceil(op.outC / 8) / wg.WG_X), Math.ceil(taps / 16 / wg.WG_Y)]));
        } else out.push(await env.dispatch('conv2d_backward_weights_blocked', op.layer, constants, io, [Math.ceil(taps / 4), Math.ceil(op.outC / 8)]));
      }
      if (op.db) out.push(await env.dispatch(direct ? 'conv2d_bias_grad' : 'conv2d_bias_grad_vec4', op.layer, { OUT_C: op.outC, PIXELS: op.outH * op.outW }, [env.range(op.dy), env.range(op.db)], [Math.ceil(op.outC / 4), 1]));
      return out;
    },
  },
  bench: {
    shape: CONV_SHAPE,
    dims: (op, B) => dimsOf(op, B),
    fromMKN: dimsFromMKN,
    work: (dims) => {
      const { B, g } = geometryOf(dims), n = sizes(B, g);
      return { flops: convFlops(B, g) + n.y, bytes: 4 * (n.x + n.y + n.w + g.outC), unit: 'GFLOP/s' };
    },
    instance: (dims, random) => {
      const { B, g } = geometryOf(dims), n = sizes(B, g);
      return {
        op: { kind: 'conv2d_backward_weights', layer: 'bench', x: 'x', dy: 'dy', dw: 'dw', db: 'db', ...g },
        rows: B, inputs: { x: random(n.x), dy: random(n.y) }, outputs: { dw: n.w, db: g.outC },
        step: 0, seed: 1, optimizer: NO_OPTIMIZER,
      };
    },
    cases: CONV_CASES,
  },
  custom: {
    bindings: [{ name: 'x', access: 'read' }, { name: 'dy', access: 'read' }, { name: 'dw', access: 'rw' }],
    overrides: GEOMETRY_OVERRIDES,
    output: (dims) => { const { g } = geometryOf(dims); return [g.kH * g.kW * g.inC, g.outC]; },
    outputNames: ['K_H·K_W·IN_C', 'OUT_C'],
    computes: 'dw [K_H, K_W, IN_C, OUT_C] = the gradient of conv2d_forward\'s kernel for x [ctx.rows, IN_H, IN_W, IN_C] and dy [ctx.rows, OUT_H, OUT_W, OUT_C], summed over the batch (db stays with the built-in conv2d_bias_grad kernel)',
  },
});

/** Workgroup of conv2d_backward_weights_vec4: 16 invocations, x over the groups of 8 output channels. */
function rowsWorkgroup(outC: number): { WG_X: number; WG_Y: number } {
  const { WG_X } = blockWorkgroup(outC);
  return { WG_X: Math.min(WG_X, 16), WG_Y: 16 / Math.min(WG_X, 16) };
}
