// conv2d_forward: y = x ⋆ w + b over NHWC inputs with an HWIO kernel, the
// layer's ReLU fused into the epilogue (as dense_forward):
//   y[b, oh, ow, oc] = relu?(b[oc] + Σ_{kh, kw, ic} x[b, oh·sH + kh·dH − padTop, ow·sW + kw·dW − padLeft, ic] · w[kh, kw, ic, oc])
// with x = 0 outside the input (TF "same"/"valid", src/ops/conv-geometry.ts).
// wasm: im2col per tile of output pixels into a static scratch, then the
// SIMD gemm of dense (kernels/as/conv.ts). WebGPU: register-blocked
// implicit GEMM, 32 output pixels × 8 channels per invocation
// (kernels/wgsl/conv2d_forward_vec4.wgsl where inC and outC are multiples
// of 4, conv2d_forward_blocked.wgsl where outC is), else (and with the
// backend option convKernels: 'direct') direct convolution, one pixel × 4
// channels per invocation (conv2d_forward.wgsl).

import { CONV_CASES, CONV_SHAPE, convFlops, dimsFromMKN, dimsOf, encodeGeometry, GEOMETRY_ARGS, GEOMETRY_FIELDS, GEOMETRY_OVERRIDES, GEOMETRY_PARAMS, geometryConstants, geometryOf, sizes, type Conv2dGeometry } from './conv2d_shared.js';
import { blockDispatch, pixelGrid } from './conv-grid.js';
import { defineOp, NO_OPTIMIZER, present, type OpRecordBase } from './types.js';

export interface Conv2dForwardOp extends OpRecordBase, Conv2dGeometry {
  kind: 'conv2d_forward'; x: string; w: string; b: string | null; y: string; relu: boolean;
}

/** The reference: direct loops, each output summed in f64 from b[oc], taps in (kh, kw, ic) order. */
export function conv2dForward(X: Float32Array, W: Float32Array, bias: Float32Array | null, Y: Float32Array, B: number, g: Conv2dGeometry, relu: boolean): void {
  const { inH, inW, inC, outH, outW, outC } = g;
  const acc = new Float64Array(outC);
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        for (let oc = 0; oc < outC; oc++) acc[oc] = bias ? bias[oc]! : 0;
        for (let kh = 0; kh < g.kH; kh++) {
          const ih = oh * g.strideH + kh * g.dilationH - g.padTop;
          if (ih < 0 || ih >= inH) continue;
          for (let kw = 0; kw < g.kW; kw++) {
            const iw = ow * g.strideW + kw * g.dilationW - g.padLeft;
            if (iw < 0 || iw >= inW) continue;
            const xo = ((b * inH + ih) * inW + iw) * inC, wo = (kh * g.kW + kw) * inC * outC;
            for (let ic = 0; ic < inC; ic++) {
              const xv = X[xo + ic]!;
              if (xv === 0) continue; // exact: pixel inputs are mostly zeros
              const wr = wo + ic * outC;
              for (let oc = 0; oc < outC; oc++) acc[oc]! += xv * W[wr + oc]!;
            }
          }
        }
        const yo = ((b * outH + oh) * outW + ow) * outC;
        for (let oc = 0; oc < outC; oc++) {
          const v = Math.fround(acc[oc]!);
          Y[yo + oc] = relu && !(v > 0) ? 0 : v;
        }
      }
    }
  }
}

export const conv2dForwardOp = defineOp<Conv2dForwardOp>({
  kind: 'conv2d_forward',
  summary: 'y = conv(x, w) + b (NHWC, HWIO), optional fused ReLU',
  buffers: (op) => ({ reads: present(op.x, op.w, op.b), writes: [op.y] }),
  reference: (op, e) => conv2dForward(e.buf(op.x), e.buf(op.w), op.b ? e.buf(op.b) : null, e.buf(op.y), e.rows, op, op.relu),
  wasm: {
    code: 50,
    fn: 'conv2dForward',
    module: './conv',
    fields: [['x', 'ptr'], ['w', 'ptr'], ['b', 'ptr'], ['y', 'ptr'], ...GEOMETRY_FIELDS, ['relu', 'i32'], ['sparse', 'i32']],
    params: [['x', 'usize'], ['w', 'usize'], ['b', 'usize'], ['y', 'usize'], ...GEOMETRY_PARAMS, ['relu', 'i32'], ['sparse', 'i32']],
    args: `{x}, {w}, {b}, {y}, ${GEOMETRY_ARGS}, {relu}, {sparse}`,
    encode: (op, L) => [L.ptr(op.x), L.ptr(op.w), L.ptr(op.b), L.ptr(op.y), ...encodeGeometry(op), op.relu ? 1 : 0, L.sparse(op.x) ? 1 : 0],
  },
  webgpu: {
    kernels: {
      conv2d_forward: ['read', 'read', 'read', 'rw'],
      conv2d_forward_blocked: ['read', 'read', 'read', 'rw'],
      conv2d_forward_vec4: ['read', 'read', 'read', 'rw'],
    },
    async dispatches(op, env) {
      const io = [env.range(op.x), env.range(op.w), env.range(op.b), env.range(op.y)];
      const constants = { ...geometryConstants(op), HAS_BIAS: !!op.b, RELU: op.relu };
      const detail = `${op.layer} ${env.mode}`;
      const pixels = env.B * op.outH * op.outW;
      if (env.custom) return [await env.custom(detail, constants, io, pixels, op.outC)];
      if (env.prefer.conv === 'direct' || op.outC % 4) return [await env.dispatch('conv2d_forward', detail, constants, io, pixelGrid(pixels, op.outC))];
      const kernel = op.inC % 4 ? 'conv2d_forward_blocked' : 'conv2d_forward_vec4';
      const blocked = blockDispatch(pixels, op.outC, 32);
      return [await env.dispatch(kernel, detail, { ...constants, ...blocked.constants }, io, blocked.grid)];
    },
  },
  bench: {
    shape: CONV_SHAPE,
    dims: (op, B) => dimsOf(op, B),
    fromMKN: dimsFromMKN,
    work: (dims) => {
      const { B, g } = geometryOf(dims), n = sizes(B, g);
      return { flops: convFlops(B, g), bytes: 4 * (n.x + n.w + g.outC + n.y), unit: 'GFLOP/s' };
    },
    instance: (dims, random) => {
      const { B, g } = geometryOf(dims), n = sizes(B, g);
      return {
        op: { kind: 'conv2d_forward', layer: 'bench', x: 'x', w: 'w', b: 'b', y: 'y', ...g, relu: true },
        rows: B, inputs: { x: random(n.x), w: random(n.w, 0.3), b: random(g.outC, 0.3) }, outputs: { y: n.y },
        step: 0, seed: 1, optimizer: NO_OPTIMIZER,
      };
    },
    cases: CONV_CASES,
  },
  custom: {
    bindings: [{ name: 'x', access: 'read' }, { name: 'w', access: 'read' }, { name: 'b', access: 'read' }, { name: 'y', access: 'rw' }],
    overrides: [...GEOMETRY_OVERRIDES, 'HAS_BIAS', 'RELU'],
    output: (dims) => { const { B, g } = geometryOf(dims); return [B * g.outH * g.outW, g.outC]; },
    outputNames: ['P', 'OUT_C'],
    computes: 'y[P×OUT_C] (P = ctx.rows·OUT_H·OUT_W output pixels, NHWC) = conv(x [ctx.rows, IN_H, IN_W, IN_C], w [K_H, K_W, IN_C, OUT_C]) + b (when HAS_BIAS), then ReLU (when RELU); zero padding PAD_T/PAD_L',
  },
  gradient: {
    wrt: (op) => present(op.x, op.w, op.b),
    backward: (op, grad) => {
      const dz = op.relu ? 'grad:preact' : grad(op.y);
      const ops: OpRecordBase[] = [];
      const geometry = geometryPart(op);
      if (op.relu) ops.push({ kind: 'relu_backward', layer: op.layer, dy: grad(op.y), y: op.y, dx: dz, features: op.outH * op.outW * op.outC } as OpRecordBase);
      ops.push({ kind: 'conv2d_backward_weights', layer: op.layer, x: op.x, dy: dz, dw: grad(op.w), db: op.b ? grad(op.b) : null, ...geometry } as OpRecordBase);
      ops.push({ kind: 'conv2d_backward_input', layer: op.layer, dy: dz, w: op.w, dx: grad(op.x), reluOut: null, ...geometry } as OpRecordBase);
      return { ops, scratch: op.relu ? { [dz]: op.y } : {} };
    },
  },
});

/** Just the geometry of a conv record. */
export function geometryPart(g: Conv2dGeometry): Conv2dGeometry {
  const { inH, inW, outH, outW, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft, inC, outC } = g;
  return { inH, inW, outH, outW, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft, inC, outC };
}
