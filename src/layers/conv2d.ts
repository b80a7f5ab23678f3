// conv2d: Keras Conv2D, channels_last. The kernel is HWIO [kh, kw, in, filters]
// (Glorot uniform with Keras's fans: receptive field × channels), the bias
// zeros. ReLU is fused into conv2d_forward; any other activation runs as
// its own op. Backward mirrors dense: the activation's gradient unless the
// layer above already applied the ReLU mask, then dW/db, then dX when
// something below needs it (with the ReLU mask of the layer below fused).

import { regularizerOf } from './regularizer.js';
import type { Conv2dLayerSpec } from '../config/types.js';
import type { Window2d } from '../ops/conv-geometry.js';
import { activationEpilogue, resolveActivation } from './activation-lowering.js';
import { pair, SILENT, spatialInput, spatialWindow } from './spatial.js';
import type { InferContext, LayerDef } from './types.js';

function geometry(spec: Conv2dLayerSpec, hwc: [number, number, number], ctx: InferContext): Window2d {
  const k = pair(spec.kernel_size, 1), s = pair(spec.strides, 1), d = pair(spec.dilation_rate, 1);
  if ((s[0] > 1 || s[1] > 1) && (d[0] > 1 || d[1] > 1)) {
    ctx.error({ path: ctx.path, message: 'conv2d: strides > 1 and dilation_rate > 1 cannot be combined (as in Keras)', hint: 'set one of them to 1' });
  }
  return spatialWindow('conv2d', hwc, k, s, d, spec.padding ?? 'valid', ctx);
}

export const conv2dLayer: LayerDef<Conv2dLayerSpec> = {
  type: 'conv2d',
  infer(spec, [input], ctx) {
    const hwc = spatialInput('conv2d', input!, ctx);
    const g = geometry(spec, hwc, ctx);
    const [kH, kW, inC, n] = [g.kH, g.kW, hwc[2], spec.filters];
    const fans = { fanIn: kH * kW * inC, fanOut: kH * kW * n };
    const params = [{ name: 'kernel', shape: [kH, kW, inC, n], init: 'glorot_uniform' as const, ...fans }];
    if (spec.use_bias !== false) params.push({ name: 'bias', shape: [n], init: 'zeros' as never, ...fans });
    return { outputShape: [g.outH, g.outW, n], params, activation: resolveActivation(spec.activation).name };
  },
  lower(spec, info, [x], g) {
    const hwc = x!.shape as [number, number, number];
    const geo = geometry(spec, hwc, SILENT); // infer() reported any problem
    const [inC, outC] = [hwc[2], spec.filters];
    const fans = { fanIn: geo.kH * geo.kW * inC, fanOut: geo.kH * geo.kW * outC };
    const w = g.param(info.name, { name: 'kernel', shape: [geo.kH, geo.kW, inC, outC], init: 'glorot_uniform', ...fans, ...regularizerOf(spec.kernel_regularizer) });
    const b = spec.use_bias === false ? null : g.param(info.name, { name: 'bias', shape: [outC], init: 'zeros', ...fans });
    const outShape = [geo.outH, geo.outW, outC];
    const features = geo.outH * geo.outW * outC;
    const ep = activationEpilogue(resolveActivation(spec.activation), info.name, features, g);
    const shape = { ...geo, inC, outC };
    g.forward({ kind: 'conv2d_forward', layer: info.name, x: x!.buffer, w, b, y: ep.z, ...shape, relu: ep.relu } as never);
    const { output, toPreactivation } = ep.finish(outShape);
    return {
      output,
      backward(dOut) {
        const dz = toPreactivation(dOut);
        g.backward({ kind: 'conv2d_backward_weights', layer: info.name, x: x!.buffer, dy: dz.buffer, dw: `${w}:grad`, db: b ? `${b}:grad` : null, ...shape } as never);
        if (!x!.needsGrad) return [null];
        const dx = g.gradient(`grad:${x!.buffer}`, x!.features);
        const reluOut = x!.reluOutput ? x!.buffer : null;
        g.backward({ kind: 'conv2d_backward_input', layer: info.name, dy: dz.buffer, w, dx, reluOut, ...shape } as never);
        return [{ buffer: dx, reluApplied: reluOut !== null }];
      },
    };
  },
};
