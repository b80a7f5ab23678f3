// The activation ops (src/ops/activations.ts) at kernel level:
//   1. the float64 erf/erfc of src/ops/math.ts against an independent erf
//      (the all-positive Kummer series) and 40-digit erfc values (mpmath);
//   2. each op's TypeScript reference, run on Float64Arrays, against
//      float64 formulas written here independently (softmax's backward by
//      its full Jacobian);
//   3. central finite differences of each forward reference against the
//      backward ops its gradient spec lowers to;
//   4. the AssemblyScript kernels (both builds) and 5. the WGSL kernels
//      against the reference (f32) on random non-zero inputs at awkward
//      sizes, driven by each op's registered wasm / webgpu spec, plus the
//      accuracy of the f32 exp/erf/erfc/tanh that the kernels are built on.
//
// Errors: norm-based relErr (test/support/compare.ts) for the kernels;
// elementwise relative with a floor for the float64 checks. Under CI=true
// the WebGPU part fails without an adapter, and the relaxed-SIMD build
// fails if no Node here accepts it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ACTIVATION_OPS } from '../src/ops/activations.js';
import { erf, erfc } from '../src/ops/math.js';
import { reluBackwardOp } from '../src/ops/relu_backward.js';
import type { OpDef, OpRecordBase, RefEnv } from '../src/ops/types.js';
import { NO_OPTIMIZER } from '../src/ops/types.js';
import { Heap, instantiateKernels, relaxedSimdSupported, type WasmVariant } from '../src/runtime/wasm/module.js';
import { relErr } from './support/compare.js';
import { kernelRandoms } from './support/random.js';
import { gpuCheck, gpuSetup, WGSL_MATH_TOL } from './support/activations-gpu.js';

const CI = process.env.CI === 'true' || process.env.CI === '1';
const ONLY = process.env.TESSERA_WASM_VARIANT as WasmVariant | undefined;
/**
 * Max error of a kernel against the reference (f32 inputs, f64 arithmetic).
 * Measured worst: 5.2e-7 (softmax_backward, its row dot product summed in
 * f32 at F = 129); every elementwise op ≤ 2.6e-7, on both wasm builds and llvmpipe.
 */
const KERNEL_TOL = 2e-6;
/**
 * Kernel error: max_i |a_i − b_i| / max(max_i |b_i|, 0.1). The inputs are
 * O(1), so the floor only matters for an array of one or three values near
 * a root of F′ (gelu, silu), where f32 rounding of O(1) terms is not small
 * against the result; an indexing bug is still an O(0.1) error.
 */
function kerr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < b.length; i++) s = Math.max(s, Math.abs(b[i]!));
  return (relErr(a, b) * Math.max(s, 1e-30)) / Math.max(s, 0.1);
}

const { rand } = kernelRandoms(23, 3000);
const DEFS: OpDef[] = [...ACTIVATION_OPS, reluBackwardOp].map((d) => d as unknown as OpDef);
const byKind = new Map(DEFS.map((d) => [d.kind, d]));
const FORWARD = DEFS.filter((d) => d.gradient);

// ---------------------------------------------------------------- 1. erf

/** erf(x) = 2/√π·e^(−x²)·Σ 2ⁿx²ⁿ⁺¹/(1·3·…·(2n+1)): positive terms, so no cancellation at any x. */
function erfKummer(x: number): number {
  const a = Math.abs(x);
  if (a > 6.5) return Math.sign(x); // 1 − erfc(6.5) rounds to 1
  let term = a, sum = a;
  for (let n = 1; term > 1e-18 * sum; n++) sum += (term *= (2 * a * a) / (2 * n + 1));
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * sum;
}
// erfc at 40 digits (mpmath), where erfc is computed directly.
const ERFC_TABLE: [number, number][] = [
  [2.5, 4.0695201744495893956e-4], [3, 2.2090496998585441373e-5], [4, 1.5417257900280018852e-8], [5, 1.5374597944280348502e-12],
  [6, 2.1519736712498913117e-17], [8, 1.122429717298292708e-29], [10, 2.088487583762544757e-45], [26, 5.6631924088561428465e-296],
];

test('erf (src/ops/math.ts): |erf − erf_true| ≤ 1e-14 on [−7, 7]; erfc relative ≤ 1e-13 in the tail', () => {
  let worst = 0;
  for (let i = -7 * 1024; i <= 7 * 1024; i++) worst = Math.max(worst, Math.abs(erf(i / 1024) - erfKummer(i / 1024)));
  for (const x of rand(4000, 7)) worst = Math.max(worst, Math.abs(erf(x) - erfKummer(x)));
  console.log(`  erf: max abs error ${worst.toExponential(2)}`);
  assert.ok(worst <= 1e-14, `erf abs error ${worst}`);
  for (const [x, want] of ERFC_TABLE) {
    const e = Math.abs(erfc(x) - want) / want;
    assert.ok(e <= 1e-13, `erfc(${x}) = ${erfc(x)} vs ${want}: rel ${e}`);
    assert.ok(Math.abs(erfc(-x) - (2 - want)) <= 1e-15);
  }
  assert.ok(Number.isNaN(erf(NaN)) && erf(Infinity) === 1 && erf(-Infinity) === -1 && Object.is(erf(0), 0));
});

// ---------------------------------------------------------------- 2. references vs formulas

const sig = (x: number) => 0.5 * (1 + Math.tanh(x / 2));
const c = Math.sqrt(2 / Math.PI);
/** Independent float64 F and F' by kind (gelu_tanh as x·σ(2u), the identity the kernels use). */
const FORMULAS: Record<string, [(x: number, a: number) => number, (x: number, a: number) => number]> = {
  relu: [(x) => Math.max(x, 0), (x) => (x > 0 ? 1 : 0)],
  sigmoid: [sig, (x) => 0.25 / Math.cosh(x / 2) ** 2],
  tanh: [(x) => Math.sign(x) * (1 - Math.exp(-2 * Math.abs(x))) / (1 + Math.exp(-2 * Math.abs(x))), (x) => 1 / Math.cosh(x) ** 2],
  leaky_relu: [(x, a) => (x >= 0 ? x : a * x), (x, a) => (x > 0 ? 1 : a)],
  elu: [(x, a) => (x > 0 ? x : a * (Math.exp(x) - 1)), (x, a) => (x > 0 ? 1 : a * Math.exp(x))],
  gelu: [(x) => 0.5 * x * (1 + erfKummer(x / Math.SQRT2)), (x) => 0.5 * (1 + erfKummer(x / Math.SQRT2)) + (x * Math.exp(-x * x / 2)) / Math.sqrt(2 * Math.PI)],
  gelu_tanh: [
    (x) => x / (1 + Math.exp(-2 * c * (x + 0.044715 * x ** 3))),
    (x) => { const s = sig(2 * c * (x + 0.044715 * x ** 3)); return s + x * s * (1 - s) * 2 * c * (1 + 3 * 0.044715 * x * x); },
  ],
  silu: [(x) => x / (1 + Math.exp(-x)), (x) => sig(x) * (1 + x * (1 - sig(x)))],
  softplus: [(x) => Math.log(1 + Math.exp(x)), (x) => 1 / (1 + Math.exp(-x))],
};
const ALPHAS: Record<string, number[]> = { leaky_relu: [0.2, 0.01], elu: [1, 0.5] };

/** Runs op records' references on the named arrays (missing outputs are made, sized n). */
function runRef(ops: OpRecordBase[], bufs: Map<string, Float32Array | Float64Array>, rows: number, n: number): void {
  const env: RefEnv = {
    buf: (name) => {
      if (!bufs.has(name)) bufs.set(name, new Float64Array(n));
      return bufs.get(name)! as Float32Array;
    },
    rows, step: 0, seed: 1, labels: new Uint32Array(rows), optimizer: NO_OPTIMIZER, addMetrics: () => {}, addMetric: () => {},
  };
  for (const op of ops) byKind.get(op.kind)!.reference(op, env);
}

/** max_i |a − b| / (|b| + floor·max|b|). */
function relFloor(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-6): number {
  let s = 0, w = 0;
  for (let i = 0; i < b.length; i++) s = Math.max(s, Math.abs(b[i]!));
  for (let i = 0; i < b.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!) / (Math.abs(b[i]!) + floor * s + 1e-300));
  return Number.isNaN(w) ? Infinity : w;
}

const f64 = (a: Float32Array) => Float64Array.from(a);
const grad = (name: string) => `d:${name}`;
/** A forward record at F features (from the bench spec) and the backward records its gradient spec lowers to. */
function pair(d: OpDef, M: number, F: number, alpha?: number) {
  const op = { ...d.bench!.instance([M, F], rand).op, ...(alpha === undefined ? {} : { alpha }) } as OpRecordBase & { x: string; y: string; alpha?: number };
  return { op, back: d.gradient!.backward(op, grad).ops };
}

for (const d of FORWARD) {
  for (const alpha of ALPHAS[d.kind] ?? [undefined]) {
    test(`${d.kind}${alpha === undefined ? '' : ` α=${alpha}`}: reference forward and backward equal float64 formulas`, () => {
      const [M, F] = [7, 33], n = M * F;
      const { op, back } = pair(d, M, F, alpha);
      const x = f64(rand(n, 9)), dy = f64(rand(n));
      const bufs = new Map<string, Float32Array | Float64Array>([[op.x, x], [grad(op.y), dy]]);
      runRef([op], bufs, M, n);
      runRef(back, bufs, M, n);
      const y = bufs.get(op.y)!, dx = bufs.get(grad(op.x))!;
      let wantY: Float64Array, wantDx: Float64Array;
      if (d.kind === 'softmax') {
        wantY = new Float64Array(n); wantDx = new Float64Array(n);
        for (let r = 0; r < M; r++) {
          let s = 0;
          for (let j = 0; j < F; j++) s += Math.exp(x[r * F + j]!);
          for (let j = 0; j < F; j++) wantY[r * F + j] = Math.exp(x[r * F + j]!) / s;
          for (let i = 0; i < F; i++) for (let j = 0; j < F; j++) {
            const yi = wantY[r * F + i]!, yj = wantY[r * F + j]!;
            wantDx[r * F + i]! += dy[r * F + j]! * yj * ((i === j ? 1 : 0) - yi); // dx_i = Σ_j dy_j ∂y_j/∂x_i
          }
        }
      } else {
        const [f, df] = FORMULAS[d.kind]!;
        const a = op.alpha ?? 0;
        wantY = x.map((v) => f(v, a));
        wantDx = x.map((v, i) => dy[i]! * df(v, a));
      }
      // floor 1e-4: near a root (gelu′ at −0.75) or where y → ±1 (tanh′ = 1 − y²) float64 rounding of O(1) terms is not relative
      const ey = relFloor(y, wantY, 1e-4), ed = relFloor(dx, wantDx, 1e-4);
      assert.ok(ey <= 1e-9, `forward rel err ${ey}`);
      assert.ok(ed <= 1e-9, `backward rel err ${ed}`);
    });
  }
}

// ---------------------------------------------------------------- 3. finite differences

for (const d of FORWARD) {
  test(`${d.kind}: backward ops agree with central differences of the forward reference (float64)`, () => {
    const [M, F] = [3, 7], n = M * F;
    const { op, back } = pair(d, M, F);
    // |x| ≥ 0.05: relu, leaky_relu and elu have a kink at 0, far outside the step
    const x = f64(rand(n, 4)).map((v) => (Math.abs(v) < 0.05 ? 0.5 : v)), dy = f64(rand(n));
    const loss = () => {
      const b = new Map<string, Float32Array | Float64Array>([[op.x, x]]);
      runRef([op], b, M, n);
      const y = b.get(op.y)!;
      let s = 0;
      for (let i = 0; i < n; i++) s += y[i]! * dy[i]!;
      return s;
    };
    const bufs = new Map<string, Float32Array | Float64Array>([[op.x, x], [grad(op.y), dy]]);
    runRef([op, ...back], bufs, M, n);
    const analytic = bufs.get(grad(op.x))!, numeric = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = x[i]!, h = 1e-5 * Math.max(1, Math.abs(v));
      x[i] = v + h; const lp = loss();
      x[i] = v - h; const lm = loss();
      x[i] = v;
      numeric[i] = (lp - lm) / (2 * h);
    }
    const e = relFloor(analytic, numeric, 1e-3);
    assert.ok(e <= 1e-6, `${d.kind}: analytic vs numeric gradient rel err ${e}`);
  });
}

// ---------------------------------------------------------------- 4 & 5. kernels against the reference

const SHAPES: [number, number][] = [];
for (const M of [1, 3, 7, 33, 129]) for (const F of [1, 3, 10, 33, 129]) SHAPES.push([M, F]);

/**
 * The bench instance of `d` at [M, F] with x drawn at `scale` (and alpha
 * overridden), y recomputed by the forward reference so backward inputs are consistent.
 */
function kernelCase(d: OpDef, M: number, F: number, scale: number, alpha?: number) {
  const inst = d.bench!.instance([M, F], rand);
  const op = { ...inst.op, ...(alpha === undefined ? {} : { alpha }) } as OpRecordBase & Record<string, unknown>;
  const n = M * F, inputs = { ...inst.inputs };
  const fwd = byKind.get(d.kind.replace(/_backward$/, ''))!;
  const x = rand(n, scale);
  if (fwd === d) inputs.x = x;
  else {
    const b = new Map<string, Float32Array | Float64Array>([['x', x], ['y', new Float32Array(n)]]);
    runRef([{ ...fwd.bench!.instance([M, F], rand).op, alpha: op.alpha, x: 'x', y: 'y' } as OpRecordBase], b, M, n);
    if ('x' in inputs) inputs.x = x;
    inputs.y = b.get('y') as Float32Array;
  }
  const expected = new Map<string, Float32Array | Float64Array>(Object.entries(inputs).map(([k, v]) => [k, v.slice()]));
  for (const k of Object.keys(inst.outputs)) expected.set(k, new Float32Array(n));
  runRef([op], expected, M, n);
  const out = Object.keys(inst.outputs)[0]!;
  return { op, inputs, out, n, want: expected.get(out) as Float32Array };
}

const SCALES = [4, 40]; // the interesting range, and the saturated / overflowing tails
const KERNEL_DEFS = DEFS.filter((d) => d !== reluBackwardOp as unknown as OpDef);
const variants: WasmVariant[] = ONLY ? [ONLY] : relaxedSimdSupported() ? ['simd', 'relaxed'] : ['simd'];

for (const v of variants) {
  test(`[${v}] AssemblyScript exp, erf, erfc, tanh, expm1, log1p accuracy`, async () => {
    const k = await instantiateKernels(v);
    const call = (fn: string, x: Float32Array) => {
      const h = new Heap(k), px = h.alloc(x.byteLength), py = h.alloc(x.byteLength);
      h.f32(px, x.length).set(x);
      (k as unknown as Record<string, (...a: number[]) => void>)[fn]!(px, py, x.length, 1);
      return h.f32(py, x.length).slice();
    };
    const grid = (lo: number, hi: number, n = 20001) => Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
    const rel = (a: Float32Array, x: Float32Array, f: (v: number) => number) => a.reduce((w, v, i) => Math.max(w, v === f(x[i]!) ? 0 : Math.abs(v - f(x[i]!)) / Math.abs(f(x[i]!))), 0);
    const abs = (a: Float32Array, x: Float32Array, f: (v: number) => number) => a.reduce((w, v, i) => Math.max(w, Math.abs(v - f(x[i]!))), 0);
    const ex = grid(-86.9, 88.37), er = grid(-6, 6), ec = grid(0, 4), ec9 = grid(4, 9), et = grid(-10, 10), em = grid(-10, -1e-6), es = grid(-80, 0);
    const m = {
      exp: rel(call('vexp', ex), ex, Math.exp), erfAbs: abs(call('verf', er), er, erf),
      erfRel: rel(call('verf', er), er, erf), erfc: rel(call('verfc', ec), ec, erfc), erfc9: rel(call('verfc', ec9), ec9, erfc), tanh: rel(call('tanh', et), et, Math.tanh),
      expm1: rel(call('elu', em), em, Math.expm1), // elu with alpha 1 is expm1 for x ≤ 0
      softplus: rel(call('softplus', es), es, (x) => Math.log1p(Math.exp(x))), // log1p01(exp4(x)) for x ≤ 0
    };
    console.log(`  [${v}] measured: ${Object.entries(m).map(([n, e]) => `${n} ${e.toExponential(2)}`).join(', ')}`);
    assert.ok(m.exp <= 2.5e-7 && m.erfAbs <= 3e-7 && m.erfRel <= 5e-7 && m.erfc <= 2e-6 && m.erfc9 <= 1e-5 && m.tanh <= 5e-7 && m.expm1 <= 5e-7 && m.softplus <= 5e-7, JSON.stringify(m));
    const edge = call('vexp', Float32Array.of(-87, -200, 88.5, 1000, NaN, 0));
    assert.equal(Array.from(edge.subarray(0, 4)), [0, 0, Infinity, Infinity]);
    assert.ok(Number.isNaN(edge[4]!) && edge[5] === 1);
  });

  test(`[${v}] every activation kernel matches the reference at awkward sizes (scales 4 and 40)`, async () => {
    const k = await instantiateKernels(v);
    const worst: Record<string, number> = {};
    for (const d of KERNEL_DEFS) for (const [M, F] of SHAPES) for (const scale of SCALES) for (const alpha of [undefined, ...(ALPHAS[d.kind.replace(/_backward$/, '')] ?? [])]) {
      const { op, inputs, out, n, want } = kernelCase(d, M, F, scale, alpha);
      const h = new Heap(k);
      const ptr: Record<string, number> = {};
      for (const [name, a] of Object.entries(inputs)) { ptr[name] = h.alloc(n * 4 + 32); h.f32(ptr[name]!, n).set(a); }
      ptr[out] = h.alloc(n * 4 + 32);
      h.f32(ptr[out]!, n + 8).fill(NaN);
      const value = (p: string): number => {
        if (p === 'n') return n;
        if (p === 'M') return M;
        if (p === 'F') return F;
        if (p === 'alpha') return op.alpha as number;
        const ref = op[p];
        if (typeof ref !== 'string' || !(ref in ptr)) throw new Error(`${d.kind}: wasm param ${p} names no buffer`);
        return ptr[ref]!;
      };
      assert.is(d.wasm.encode(op as never, { ptr: (x) => (x ? 64 : 0), transposed: () => 0, labels: 0, sparse: () => false }).length, d.wasm.fields.length, `${d.kind}: encode vs fields`);
      const fn = (k as unknown as Record<string, (...a: number[]) => void>)[d.wasm.fn];
      assert.type(fn, 'function', `export ${d.wasm.fn}`);
      fn!(...d.wasm.params.map(([p]) => value(p)));
      const got = h.f32(ptr[out]!, n + 8).slice();
      for (let i = n; i < n + 8; i++) assert.ok(Number.isNaN(got[i]!), `${d.kind}: wrote past n at ${i}`);
      const e = kerr(got.subarray(0, n), want);
      worst[d.kind] = Math.max(worst[d.kind] ?? 0, e);
      assert.ok(e <= KERNEL_TOL, `${d.kind} M=${M} F=${F} scale=${scale} alpha=${alpha}: rel err ${e}`);
    }
    console.log(`  [${v}] worst rel err: ${Object.entries(worst).map(([n, e]) => `${n} ${e.toExponential(1)}`).join(', ')}`);
  });
}

if (!ONLY && !variants.includes('relaxed')) {
  // Node 20 accepts relaxed SIMD only behind a flag: test that build in a child Node.
  test('[relaxed] the relaxed-SIMD build passes the same tests (child node --experimental-wasm-relaxed-simd)', () => {
    const res = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, TESSERA_WASM_VARIANT: 'relaxed', TESSERA_SKIP_WEBGPU: '1' }, encoding: 'utf8',
    });
    if (/not supported|bad option|unknown flag/i.test(res.stderr) && res.status !== 0) {
      const why = `this Node rejects --experimental-wasm-relaxed-simd: ${res.stderr.trim()}`;
      if (CI) assert.unreachable(`${why}\n(CI=true makes this a failure)`);
      console.error(`\n!! activations: SKIPPED the relaxed-SIMD build: ${why}\n`);
      return;
    }
    assert.is(res.status, 0, `relaxed-SIMD child failed:\n${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /Passed:\s+\d+/);
    console.log(res.stdout.split('\n').filter((l) => l.includes('[relaxed]')).join('\n'));
  });
}

// ---------------------------------------------------------------- 5. WebGPU

if (!process.env.TESSERA_SKIP_WEBGPU) {
  const gpu = await gpuSetup();
  if (!gpu.device) {
    console.error(`\n${'!'.repeat(78)}\n!! activations: NO WEBGPU ADAPTER — ${gpu.reason}\n${'!'.repeat(78)}\n`);
    if (CI) test('a WebGPU adapter is available (required under CI=true)', () => { throw new Error(`no WebGPU adapter: ${gpu.reason}`); });
    else test.skip('WGSL activation kernels (no adapter; CI=true makes this a failure)', () => {});
  } else {
    test(`WGSL exp, erf, erfc, expm1, tanh, log1p accuracy (${gpu.name})`, async () => {
      const m = await gpuCheck.math(gpu.device!);
      console.log(`  wgsl measured: ${Object.entries(m).map(([n, e]) => `${n} ${e.toExponential(2)}`).join(', ')}`);
      for (const [name, bound] of Object.entries(WGSL_MATH_TOL)) assert.ok(m[name]! <= bound, `${name}: ${m[name]} > ${bound}`);
    });
    test('every WGSL activation kernel matches the reference at awkward sizes (scales 4 and 40), rows past ctx.rows untouched', async () => {
      const worst: Record<string, number> = {};
      for (const d of KERNEL_DEFS) for (const [M, F] of SHAPES) for (const scale of SCALES) for (const alpha of [undefined, ...(ALPHAS[d.kind.replace(/_backward$/, '')] ?? [])]) {
        const kc = kernelCase(d, M, F, scale, alpha);
        const got = await gpuCheck.run(gpu.device!, d, kc.op, kc.inputs, kc.out, M, F);
        const e = kerr(got, kc.want);
        worst[d.kind] = Math.max(worst[d.kind] ?? 0, e);
        assert.ok(e <= KERNEL_TOL, `${d.kind} M=${M} F=${F} scale=${scale} alpha=${alpha}: rel err ${e}`);
      }
      console.log(`  wgsl worst rel err: ${Object.entries(worst).map(([n, e]) => `${n} ${e.toExponential(1)}`).join(', ')}`);
    });
  }
}

test.run();
