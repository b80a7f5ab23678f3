// Finite-difference checks of every differentiable registered op: for each
// op with a `gradient` spec, the backward ops it names (run by their
// reference implementations) must give the gradient of
//   L = Σ_outputs Σ_i dY[i] · Y[i]
// with respect to each input, as central differences of the forward
// reference measure it. A new op with a gradient spec is checked with no
// edit here. The references are f32, so differences use h = 1e-2·scale and
// a tolerance of 2% of the gradient's scale.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OPS } from '../src/ops/index.js';
import type { OpDef, OpInstance, OpRecordBase, RefEnv } from '../src/ops/types.js';
import { kernelRandoms } from './support/random.js';

/** Shapes small enough for per-element differences, awkward enough to catch index mistakes. */
const MKN: [number, number, number] = [3, 5, 7];

function env(inst: OpInstance<OpRecordBase>, bufs: Map<string, Float32Array>): RefEnv {
  return {
    buf: (name) => {
      const b = bufs.get(name);
      if (!b) throw new Error(`no buffer '${name}'`);
      return b;
    },
    rows: inst.rows, step: inst.step, seed: inst.seed, optimizer: inst.optimizer,
    labels: inst.labels ?? new Uint32Array(inst.rows),
    addMetrics: () => {}, addMetric: () => {},
  };
}

/** Runs the forward op on copies of `inputs`; returns every buffer afterwards. */
function runForward(def: OpDef, inst: OpInstance<OpRecordBase>, inputs: Record<string, Float32Array>): Map<string, Float32Array> {
  const bufs = new Map<string, Float32Array>();
  for (const [k, v] of Object.entries(inputs)) bufs.set(k, v.slice());
  for (const [k, n] of Object.entries(inst.outputs)) if (!bufs.has(k)) bufs.set(k, new Float32Array(n));
  def.reference(inst.op, env(inst, bufs));
  return bufs;
}

const differentiable = OPS.filter((d) => (d as OpDef).gradient && (d as OpDef).bench) as unknown as OpDef[];

test('there are differentiable ops to check', () => {
  assert.ok(differentiable.length >= 2, `only ${differentiable.length} ops declare gradients`);
});

for (const def of differentiable) {
  test(`${def.kind}: backward ops match central differences of the forward op`, () => {
    const r = kernelRandoms(11, 900 + OPS.indexOf(def as never));
    const inst = def.bench!.instance(def.bench!.fromMKN(MKN), (n, scale) => r.rand(n, scale));
    const grad = (name: string) => `grad:${name}`;
    const differentiated = def.gradient!.outputs?.(inst.op) ?? Object.keys(inst.outputs);
    const dOut = Object.fromEntries(Object.entries(inst.outputs).filter(([k]) => differentiated.includes(k)).map(([k, n]) => [k, r.rand(n)]));
    const lossOf = (inputs: Record<string, Float32Array>) => {
      const bufs = runForward(def, inst, inputs);
      let L = 0;
      for (const [k, dy] of Object.entries(dOut)) {
        const y = bufs.get(k)!;
        for (let i = 0; i < dy.length; i++) L += dy[i]! * y[i]!;
      }
      return L;
    };
    // Analytic: forward once, then the backward records on the forward's buffers.
    const bufs = runForward(def, inst, inst.inputs);
    for (const [k, dy] of Object.entries(dOut)) bufs.set(grad(k), dy.slice());
    const wrt = def.gradient!.wrt(inst.op);
    for (const w of wrt) bufs.set(grad(w), new Float32Array(inst.inputs[w]!.length).fill(Number.NaN));
    const { ops, scratch } = def.gradient!.backward(inst.op, grad);
    for (const [name, like] of Object.entries(scratch ?? {})) bufs.set(name, new Float32Array(bufs.get(like)!.length));
    for (const op of ops) OPS.find((d) => d.kind === op.kind)!.reference(op as never, env(inst, bufs));

    for (const w of wrt) {
      const x = inst.inputs[w]!;
      const analytic = bufs.get(grad(w))!;
      const scale = Math.max(...Array.from(x, Math.abs));
      const central = (i: number, h: number) => {
        const plus = { ...inst.inputs, [w]: x.slice() }, minus = { ...inst.inputs, [w]: x.slice() };
        plus[w]![i]! += h;
        minus[w]![i]! -= h;
        return (lossOf(plus) - lossOf(minus)) / (2 * h);
      };
      const h = 1e-3 * scale;
      const numeric = Array.from(x, (_, i) => central(i, h));
      const gmax = Math.max(1e-3, ...numeric.map(Math.abs));
      const tol = 0.02 * gmax;
      // An element whose difference changes with the step straddles a kink
      // (ReLU at 0): no derivative to compare there. They are counted, and
      // more than a few fail the test rather than hide a wrong gradient.
      const kinks: number[] = [];
      let worst = 0, worstAt = -1;
      for (let i = 0; i < x.length; i++) {
        if (Math.abs(central(i, h / 4) - numeric[i]!) > tol) { kinks.push(i); continue; }
        const err = Math.abs(numeric[i]! - analytic[i]!);
        if (!(err <= worst)) { worst = err; worstAt = i; }
      }
      assert.ok(kinks.length <= Math.max(1, x.length * 0.05), `d/d${w}: ${kinks.length} of ${x.length} elements have no stable difference (at ${kinks.join(', ')})`);
      assert.ok(worst <= tol, `d/d${w}: worst error ${worst.toExponential(2)} at ${worstAt} (numeric ${numeric[worstAt]}, analytic ${analytic[worstAt]}), gradient scale ${gmax.toExponential(2)}`);
    }
  });
}

test.run();
