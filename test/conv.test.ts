// The conv2d op references (src/ops/conv2d_*.ts), the oracle of every conv
// kernel, against float64 loops written independently here: the forward on
// an explicitly zero-padded copy of x, dx as a brute-force gather (every
// output pixel and tap tested for landing on the input pixel, instead of
// the reference's scatter), and dw through the same padded copy. Plus the
// "same"/"valid" arithmetic of TensorFlow on known sizes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { window2d } from '../src/ops/conv-geometry.js';
import { conv2dBackwardInput } from '../src/ops/conv2d_backward_input.js';
import { conv2dBackwardWeights } from '../src/ops/conv2d_backward_weights.js';
import { conv2dForward } from '../src/ops/conv2d_forward.js';
import { geometryOf, dimsOf, dimsFromMKN, CONV_CASES, type Conv2dGeometry } from '../src/ops/conv2d_shared.js';
import { kernelRandoms } from './support/random.js';

/** x zero-padded by padTop/padLeft before and enough after that every tap of every output pixel is inside. */
function padded(x: Float32Array, B: number, g: Conv2dGeometry) {
  const Hp = Math.max(g.inH + g.padTop, (g.outH - 1) * g.strideH + (g.kH - 1) * g.dilationH + 1);
  const Wp = Math.max(g.inW + g.padLeft, (g.outW - 1) * g.strideW + (g.kW - 1) * g.dilationW + 1);
  const xp = new Float64Array(B * Hp * Wp * g.inC);
  for (let b = 0; b < B; b++) for (let h = 0; h < g.inH; h++) for (let w = 0; w < g.inW; w++) for (let c = 0; c < g.inC; c++) {
    xp[((b * Hp + h + g.padTop) * Wp + w + g.padLeft) * g.inC + c] = x[((b * g.inH + h) * g.inW + w) * g.inC + c]!;
  }
  return { xp, at: (b: number, h: number, w: number, c: number) => xp[((b * Hp + h) * Wp + w) * g.inC + c]! };
}

const W = (w: Float32Array, g: Conv2dGeometry, kh: number, kw: number, ic: number, oc: number) => w[((kh * g.kW + kw) * g.inC + ic) * g.outC + oc]!;

function forward64(x: Float32Array, w: Float32Array, bias: Float32Array, B: number, g: Conv2dGeometry, relu: boolean): Float64Array {
  const { at } = padded(x, B, g);
  const y = new Float64Array(B * g.outH * g.outW * g.outC);
  let i = 0;
  for (let b = 0; b < B; b++) for (let oh = 0; oh < g.outH; oh++) for (let ow = 0; ow < g.outW; ow++) for (let oc = 0; oc < g.outC; oc++) {
    let s = bias[oc]!;
    for (let kh = 0; kh < g.kH; kh++) for (let kw = 0; kw < g.kW; kw++) for (let ic = 0; ic < g.inC; ic++) {
      s += at(b, oh * g.strideH + kh * g.dilationH, ow * g.strideW + kw * g.dilationW, ic) * W(w, g, kh, kw, ic, oc);
    }
    y[i++] = relu ? Math.max(0, s) : s;
  }
  return y;
}

function backwardInput64(dy: Float32Array, w: Float32Array, B: number, g: Conv2dGeometry): Float64Array {
  const dx = new Float64Array(B * g.inH * g.inW * g.inC);
  for (let b = 0; b < B; b++) for (let ih = 0; ih < g.inH; ih++) for (let iw = 0; iw < g.inW; iw++) for (let ic = 0; ic < g.inC; ic++) {
    let s = 0;
    for (let oh = 0; oh < g.outH; oh++) for (let kh = 0; kh < g.kH; kh++) {
      if (oh * g.strideH + kh * g.dilationH - g.padTop !== ih) continue;
      for (let ow = 0; ow < g.outW; ow++) for (let kw = 0; kw < g.kW; kw++) {
        if (ow * g.strideW + kw * g.dilationW - g.padLeft !== iw) continue;
        for (let oc = 0; oc < g.outC; oc++) s += dy[((b * g.outH + oh) * g.outW + ow) * g.outC + oc]! * W(w, g, kh, kw, ic, oc);
      }
    }
    dx[((b * g.inH + ih) * g.inW + iw) * g.inC + ic] = s;
  }
  return dx;
}

function backwardWeights64(x: Float32Array, dy: Float32Array, B: number, g: Conv2dGeometry): { dw: Float64Array; db: Float64Array } {
  const { at } = padded(x, B, g);
  const dw = new Float64Array(g.kH * g.kW * g.inC * g.outC), db = new Float64Array(g.outC);
  for (let kh = 0; kh < g.kH; kh++) for (let kw = 0; kw < g.kW; kw++) for (let ic = 0; ic < g.inC; ic++) for (let oc = 0; oc < g.outC; oc++) {
    let s = 0;
    for (let b = 0; b < B; b++) for (let oh = 0; oh < g.outH; oh++) for (let ow = 0; ow < g.outW; ow++) {
      s += at(b, oh * g.strideH + kh * g.dilationH, ow * g.strideW + kw * g.dilationW, ic) * dy[((b * g.outH + oh) * g.outW + ow) * g.outC + oc]!;
    }
    dw[((kh * g.kW + kw) * g.inC + ic) * g.outC + oc] = s;
  }
  for (let p = 0; p < dy.length / g.outC; p++) for (let oc = 0; oc < g.outC; oc++) db[oc]! += dy[p * g.outC + oc]!;
  return { dw, db };
}

function close(got: Float32Array, want: Float64Array, what: string): void {
  assert.is(got.length, want.length, `${what}: length`);
  const scale = Math.max(1e-6, ...Array.from(want, Math.abs));
  let worst = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!);
    if (!(e <= worst)) { worst = e; at = i; }
  }
  assert.ok(worst <= 1e-6 * scale, `${what}: worst error ${worst.toExponential(2)} at ${at} (got ${got[at]}, want ${want[at]}; scale ${scale.toExponential(2)})`);
}

// The conformance cases plus a 2×2 window with padding only at the bottom/right and a 7×7 with stride 3.
const GEOMETRIES = [...CONV_CASES.filter((d) => d[0]! * d[1]! * d[2]! * d[3]! < 2000), [2, 6, 7, 3, 4, 2, 2, 1, 1, 1, 1, 1], [1, 15, 14, 2, 3, 7, 7, 3, 3, 1, 1, 1]];

for (const dims of GEOMETRIES) {
  test(`conv2d references match float64 loops at ${dims.join('×')}`, () => {
    const { B, g } = geometryOf(dims);
    const r = kernelRandoms(5, dims.reduce((a, d) => a * 31 + d, 7) % 100000);
    const x = r.rand(B * g.inH * g.inW * g.inC), w = r.rand(g.kH * g.kW * g.inC * g.outC, 0.3), bias = r.rand(g.outC, 0.3);
    const dy = r.rand(B * g.outH * g.outW * g.outC);
    for (const relu of [false, true]) {
      const y = new Float32Array(B * g.outH * g.outW * g.outC);
      conv2dForward(x, w, bias, y, B, g, relu);
      close(y, forward64(x, w, bias, B, g, relu), `forward relu=${relu}`);
    }
    const dx = new Float32Array(x.length);
    conv2dBackwardInput(dy, w, dx, null, B, g);
    const dx64 = backwardInput64(dy, w, B, g);
    close(dx, dx64, 'dx');
    const reluOut = r.rand(x.length).map((v) => (v < 0 ? 0 : v));
    conv2dBackwardInput(dy, w, dx, reluOut, B, g);
    close(dx, dx64.map((v, i) => (reluOut[i]! > 0 ? v : 0)), 'dx masked');
    const dw = new Float32Array(w.length), db = new Float32Array(g.outC);
    conv2dBackwardWeights(x, dy, dw, db, B, g);
    const want = backwardWeights64(x, dy, B, g);
    close(dw, want.dw, 'dw');
    close(db, want.db, 'db');
  });
}

test('TensorFlow "same"/"valid" sizes and padding, and bench dims round trips', () => {
  // 28, k3, s2, same: out 14, total padding 13·2 + 3 − 28 = 1, the odd one after (padTop 0).
  assert.equal([window2d(28, 28, [3, 3], [2, 2], [1, 1], 'same').outH, window2d(28, 28, [3, 3], [2, 2], [1, 1], 'same').padTop], [14, 0]);
  assert.equal([window2d(10, 10, [5, 5], [2, 2], [1, 1], 'same').outH, window2d(10, 10, [5, 5], [2, 2], [1, 1], 'same').padTop], [5, 1]);
  assert.is(window2d(28, 28, [3, 3], [1, 1], [1, 1], 'valid').outH, 26);
  assert.is(window2d(11, 11, [3, 3], [1, 1], [2, 2], 'valid').outH, 7);
  for (const dims of CONV_CASES) {
    const { B, g } = geometryOf(dims);
    const back = dimsOf(g, B);
    assert.equal(geometryOf(back).g, g, `${dims.join('×')} round trips (as ${back.join('×')})`);
  }
  assert.equal(dimsFromMKN([128, 784, 32]), [128, 28, 28, 1, 32, 3, 3, 1, 1, 1, 1, 0]);
  assert.equal(dimsFromMKN([128, 5408, 64]), [128, 13, 13, 32, 64, 3, 3, 1, 1, 1, 1, 0]);
});

test.run();
