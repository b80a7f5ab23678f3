// conv2d_backward_input: dx = dL/dx of conv2d_forward (the transposed
// convolution of dy with w), with the ReLU backward of the layer below
// fused in (dx = 0 where that layer's ReLU output was <= 0), as
// dense_backward_input does:
//   dx[b, ih, iw, ic] = Σ over the (oh, ow, kh, kw) with ih = oh·sH + kh·dH − padTop,
//                       iw = ow·sW + kw·dW − padLeft of Σ_oc dy[b, oh, ow, oc] · w[kh, kw, ic, oc]
// wasm: per tile of output pixels dcol = dy·wᵀ (the dense gemm on a
// transposed copy of w in static scratch), then col2im adds dcol into dx.
// WebGPU: a gather (no atomics), register-blocked over 32 input pixels × 8
// channels per invocation with vec4 loads where inC and outC are multiples
// of 4 (kernels/wgsl/conv2d_backward_input_vec4.wgsl), else (and with the
// backend option convKernels: 'direct') one pixel × 4 channels.

import { blockDispatch, pixelGrid } from './conv-grid.js';
import { CONV_CASES, CONV_SHAPE, convFlops, dimsFromMKN, dimsOf, encodeGeometry, GEOMETRY_ARGS, GEOMETRY_FIELDS, GEOMETRY_OVERRIDES, GEOMETRY_PARAMS, geometryConstants, geometryOf, sizes, type Conv2dGeometry } from './conv2d_shared.js';
import { defineOp, NO_OPTIMIZER, present, type OpRecordBase } from './types.js';

export interface Conv2dBackwardInputOp extends OpRecordBase, Conv2dGeometry {
  kind: 'conv2d_backward_input'; dy: string; w: string; dx: string; reluOut: string | null;
}

/** The reference: scatters each dy pixel through w into dx (f64 accumulators), then the ReLU mask. */
export function conv2dBackwardInput(dY: Float32Array, W: Float32Array, dX: Float32Array, reluOut: Float32Array | null, B: number, g: Conv2dGeometry): void {
  const { inH, inW, inC, outH, outW, outC } = g;
  const acc = new Float64Array(B * inH * inW * inC);
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
              const wr = wo + ic * outC;
              let s = 0;
              for (let oc = 0; oc < outC; oc++) s += dY[yo + oc]! * W[wr + oc]!;
              acc[xo + ic]! += s;
            }
          }
        }
      }
    }
  }
  for (let i = 0; i < acc.length; i++) dX[i] = reluOut && !(reluOut[i]! > 0) ? 0 : acc[i]!;
}

export const conv2dBackwardInputOp = defineOp<Conv2dBackwardInputOp>({
  kind: 'conv2d_backward_input',
  summary: 'dx = dL/dx of conv2d_forward, optional fused ReLU mask',
  buffers: (op) => ({ reads: present(op.dy, op.w, op.reluOut), writes: [op.dx] }),
  reference: (op, e) => conv2dBackwardInput(e.buf(op.dy), e.buf(op.w), e.buf(op.dx), op.reluOut ? e.buf(op.reluOut) : null, e.rows, op),
  wasm: {
    code: 51,
    fn: 'conv2dBackwardInput',
    module: './conv_backward',
    fields: [['dy', 'ptr'], ['w', 'ptr'], ['dx', 'ptr'], ['reluOut', 'ptr'], ...GEOMETRY_FIELDS],
    params: [['dy', 'usize'], ['w', 'usize'], ['dx', 'usize'], ['reluOut', 'usize'], ...GEOMETRY_PARAMS],
    args: `{dy}, {w}, {dx}, {reluOut}, ${GEOMETRY_ARGS}`,
    encode: (op, L) => [L.ptr(op.dy), L.ptr(op.w), L.ptr(op.dx), L.ptr(op.reluOut), ...encodeGeometry(op)],
  },
  webgpu: {
    kernels: {
      conv2d_backward_input: ['read', 'read', 'read', 'rw'],
      conv2d_backward_input_vec4: ['read', 'read', 'read', 'rw'],
    },
    async dispatches(op, env) {
      const io = [env.range(op.dy), env.range(op.w), env.range(op.reluOut), env.range(op.dx)];
      const constants = { ...geometryConstants(op), RELU_MASK: !!op.reluOut };
      const pixels = env.B * op.inH * op.inW;
      if (env.custom) return [await env.custom(op.layer, constants, io, pixels, op.inC)];
      if (env.prefer.conv === 'direct' || op.inC % 4 || op.outC % 4) return [await env.dispatch('conv2d_backward_input', op.layer, constants, io, pixelGrid(pixels, op.inC))];
      const blocked = blockDispatch(pixels, op.inC, 32);
      return [await env.dispatch('conv2d_backward_input_vec4', op.layer, { ...constants, ...blocked.constants }, io, blocked.grid)];
    },
  },
  bench: {
    shape: CONV_SHAPE,
    dims: (op, B) => dimsOf(op, B),
    fromMKN: dimsFromMKN,
    work: (dims) => {
      const { B, g } = geometryOf(dims), n = sizes(B, g);
      return { flops: convFlops(B, g), bytes: 4 * (n.y + n.w + 2 * n.x), unit: 'GFLOP/s' };
    },
    instance: (dims, random) => {
      const { B, g } = geometryOf(dims), n = sizes(B, g);
      return {
        op: { kind: 'conv2d_backward_input', layer: 'bench', dy: 'dy', w: 'w', dx: 'dx', reluOut: 'relu_out', ...g },
        rows: B,
        inputs: { dy: random(n.y), w: random(n.w, 0.3), relu_out: random(n.x).map((v) => (v < 0 ? 0 : v)) },
        outputs: { dx: n.x },
        step: 0, seed: 1, optimizer: NO_OPTIMIZER,
      };
    },
    cases: CONV_CASES,
  },
  custom: {
    bindings: [{ name: 'dy', access: 'read' }, { name: 'w', access: 'read' }, { name: 'relu_out', access: 'read' }, { name: 'dx', access: 'rw' }],
    overrides: [...GEOMETRY_OVERRIDES, 'RELU_MASK'],
    output: (dims) => { const { B, g } = geometryOf(dims); return [B * g.inH * g.inW, g.inC]; },
    outputNames: ['Q', 'IN_C'],
    computes: 'dx[Q×IN_C] (Q = ctx.rows·IN_H·IN_W input pixels, NHWC) = the gradient of conv2d_forward\'s input for dy [ctx.rows, OUT_H, OUT_W, OUT_C] and w [K_H, K_W, IN_C, OUT_C], zero where relu_out <= 0 (when RELU_MASK)',
  },
});
