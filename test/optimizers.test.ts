// The optimizers and learning-rate schedules against hand-computed Keras 3
// formulas (written out here from keras/src/optimizers/*.py, independently
// of src/ops), their lowering into state buffers and update ops, and the
// config errors for bad optimizer settings (at their line and column).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { validateModelConfig } from '../src/config/validate.js';
import type { LearningRateSchedule, ModelSpec } from '../src/config/types.js';
import { adamStepSize } from '../src/ops/adam.js';
import { adamw } from '../src/ops/adamw.js';
import { rmsprop } from '../src/ops/rmsprop.js';
import { sgd } from '../src/ops/sgd.js';
import { gradClip } from '../src/ops/grad_clip.js';
import { gradSumSquares } from '../src/ops/grad_norm.js';
import { gradPrep } from '../src/ops/grad_prep.js';
import { compileGraph } from '../src/runtime/graph.js';
import { scheduleRate } from '../src/runtime/optimizers/index.js';
import schema from '../src/config/model.schema.json' with { type: 'json' };

const P0 = [0.5, -0.25, 1.0, 0.003], G1 = [0.1, -0.2, 0.0003, -0.05], G2 = [-0.3, 0.05, 0.0004, -0.06];
const close = (got: ArrayLike<number>, want: number[], what: string, tol = 1e-6) =>
  want.forEach((w, i) => assert.ok(Math.abs(got[i]! - w) <= tol * Math.max(1, Math.abs(w)), `${what}[${i}]: ${got[i]} vs ${w}`));

test('sgd: plain, momentum and nesterov, two steps against the Keras formulas', () => {
  const lr = 0.1, mu = 0.9;
  for (const mode of ['plain', 'momentum', 'nesterov'] as const) {
    const p = Float32Array.from(P0), m = mode === 'plain' ? null : new Float32Array(4);
    const want = [...P0], wm = [0, 0, 0, 0];
    for (const g of [G1, G2]) {
      sgd(p, Float32Array.from(g), m, 4, lr, mode === 'plain' ? 0 : mu, mode === 'nesterov');
      for (let i = 0; i < 4; i++) {
        if (mode === 'plain') { want[i] -= lr * g[i]!; continue; }
        // Keras: m = -g·lr + m·momentum; nesterov: p += -g·lr + m·momentum, else p += m.
        wm[i] = -g[i]! * lr + wm[i]! * mu;
        want[i] += mode === 'nesterov' ? -g[i]! * lr + wm[i]! * mu : wm[i]!;
      }
    }
    close(p, want, `${mode} p`);
    if (m) close(m, wm, `${mode} m`);
  }
  // Step 1 of nesterov by hand: m = -0.01, p = 0.5 - 0.01 - 0.009.
  const p = Float32Array.from([0.5]), m = new Float32Array(1);
  sgd(p, Float32Array.from([0.1]), m, 1, 0.1, 0.9, true);
  close(p, [0.481], 'nesterov by hand'); close(m, [-0.01], 'm by hand');
});

test('adamw: decoupled weight decay before the Adam step; amsgrad keeps the running maximum of v', () => {
  const h = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }, wd = 0.004;
  for (const amsgrad of [false, true]) {
    const p = Float32Array.from(P0), m = new Float32Array(4), v = new Float32Array(4), vh = amsgrad ? new Float32Array(4) : null;
    const want = [...P0], wm = [0, 0, 0, 0], wv = [0, 0, 0, 0], wvh = [0, 0, 0, 0];
    [G1, G2].forEach((g, s) => {
      const t = s + 1;
      adamw(p, Float32Array.from(g), m, v, vh, 4, adamStepSize(h, t), h.beta1, h.beta2, h.epsilon, h.learningRate, amsgrad ? 0 : wd);
      for (let i = 0; i < 4; i++) {
        // Keras: variable -= variable·wd·lr (AdamW only); then m += (g - m)(1-β1); v += (g² - v)(1-β2);
        // amsgrad: v_hat = max(v_hat, v); p -= m·alpha / (sqrt(v or v_hat) + ε), alpha = lr·sqrt(1-β2^t)/(1-β1^t).
        if (!amsgrad) want[i] -= want[i]! * wd * h.learningRate;
        wm[i] += (g[i]! - wm[i]!) * (1 - h.beta1);
        wv[i] += (g[i]! ** 2 - wv[i]!) * (1 - h.beta2);
        wvh[i] = Math.max(wvh[i]!, wv[i]!);
        const alpha = h.learningRate * Math.sqrt(1 - h.beta2 ** t) / (1 - h.beta1 ** t);
        want[i] -= (wm[i]! * alpha) / (Math.sqrt(amsgrad ? wvh[i]! : wv[i]!) + h.epsilon);
      }
    });
    close(p, want, `amsgrad=${amsgrad} p`);
    close(m, wm, 'm'); close(v, wv, 'v');
    if (vh) close(vh, wvh, 'v_hat');
  }
  // AMSGrad differs from Adam once v falls: a large gradient, then a small one.
  const run = (ams: boolean) => {
    const p = Float32Array.from([0]), m = new Float32Array(1), v = new Float32Array(1), vh = ams ? new Float32Array(1) : null;
    for (const [t, g] of [[1, 1], [2, 1e-3], [3, 1e-3]] as const) adamw(p, Float32Array.from([g]), m, v, vh, 1, adamStepSize(h, t), h.beta1, h.beta2, h.epsilon, h.learningRate, 0);
    return { p: p[0]!, vh: vh?.[0], v: v[0]! };
  };
  const a = run(false), b = run(true);
  assert.ok(b.vh! > b.v, 'v_hat holds the earlier, larger v');
  assert.ok(Math.abs(b.p) < Math.abs(a.p), 'amsgrad takes the smaller steps');
});

test('rmsprop: plain, centered and momentum, two steps against the Keras formulas', () => {
  const lr = 1e-3, rho = 0.9, eps = 1e-7;
  for (const [centered, mu] of [[false, 0], [true, 0], [false, 0.5], [true, 0.5]] as const) {
    const p = Float32Array.from(P0), v = new Float32Array(4), mom = mu > 0 ? new Float32Array(4) : null, mg = centered ? new Float32Array(4) : null;
    const want = [...P0], wv = [0, 0, 0, 0], wmom = [0, 0, 0, 0], wmg = [0, 0, 0, 0];
    for (const g of [G1, G2]) {
      rmsprop(p, Float32Array.from(g), v, mom, mg, 4, lr, rho, mu, eps);
      for (let i = 0; i < 4; i++) {
        // Keras: velocity = rho·velocity + (1-rho)·g²; centered: average_grad likewise, denominator = velocity - average_grad² + ε,
        // else velocity + ε; increment = lr·g / sqrt(denominator); momentum: m = momentum·m + increment, p -= m; else p -= increment.
        wv[i] = rho * wv[i]! + (1 - rho) * g[i]! ** 2;
        let den = wv[i]! + eps;
        if (centered) { wmg[i] = rho * wmg[i]! + (1 - rho) * g[i]!; den = wv[i]! - wmg[i]! ** 2 + eps; }
        const inc = (lr * g[i]!) / Math.sqrt(den);
        if (mu > 0) { wmom[i] = mu * wmom[i]! + inc; want[i] -= wmom[i]!; } else want[i] -= inc;
      }
    }
    close(p, want, `centered=${centered} momentum=${mu} p`);
    close(v, wv, 'v');
    if (mg) close(mg, wmg, 'mg');
    if (mom) close(mom, wmom, 'mom');
  }
});

test('schedules: exponential_decay, cosine_decay (with and without warmup) and piecewise_constant_decay by hand', () => {
  const at = (s: LearningRateSchedule, step: number) => scheduleRate(s, step);
  const exp: LearningRateSchedule = { type: 'exponential_decay', initial_learning_rate: 0.1, decay_steps: 10, decay_rate: 0.5, staircase: false };
  assert.is(at(exp, 0), 0.1);
  assert.ok(Math.abs(at(exp, 10) - 0.05) < 1e-15);
  assert.ok(Math.abs(at(exp, 5) - 0.1 * Math.SQRT1_2) < 1e-15);
  assert.ok(Math.abs(at({ ...exp, staircase: true }, 19) - 0.05) < 1e-15, 'staircase: floor(19/10) = 1');
  const cos: LearningRateSchedule = { type: 'cosine_decay', initial_learning_rate: 0.1, decay_steps: 100, alpha: 0, warmup_steps: 0 };
  assert.is(at(cos, 0), 0.1);
  assert.ok(Math.abs(at(cos, 50) - 0.05) < 1e-15, 'half way: half the rate');
  assert.ok(Math.abs(at(cos, 100)) < 1e-15);
  assert.ok(Math.abs(at(cos, 250)) < 1e-15, 'constant after decay_steps');
  assert.ok(Math.abs(at({ ...cos, alpha: 0.1 }, 100) - 0.01) < 1e-15, 'alpha: the floor is alpha · initial');
  assert.ok(Math.abs(at({ ...cos, alpha: 0.1 }, 50) - 0.1 * (0.9 * 0.5 + 0.1)) < 1e-15);
  const warm: LearningRateSchedule = { ...cos, initial_learning_rate: 0, warmup_target: 0.2, warmup_steps: 10 };
  assert.is(at(warm, 0), 0);
  assert.ok(Math.abs(at(warm, 5) - 0.1) < 1e-15, 'linear warmup');
  assert.ok(Math.abs(at(warm, 10) - 0.2) < 1e-15, 'decay starts from warmup_target');
  assert.ok(Math.abs(at(warm, 60) - 0.1) < 1e-15, 'half way through the decay');
  assert.ok(Math.abs(at(warm, 110)) < 1e-15);
  const pw: LearningRateSchedule = { type: 'piecewise_constant_decay', boundaries: [10, 20], values: [1, 0.5, 0.1] };
  assert.equal([0, 10, 11, 20, 21, 1000].map((s) => at(pw, s)), [1, 1, 0.5, 0.5, 0.1, 0.1], 'values[i] up to and including boundaries[i]');
});

const MNIST = readFileSync('models/mnist.yaml', 'utf8');
/** models/mnist.yaml with its optimizer block replaced by `optimizer` (one line or a block) and any extra training lines. */
function withOptimizer(optimizer: string, training = ''): string {
  const text = MNIST.replace(/optimizer:[^\n]*(\n {2}[^\n]*)*/, `optimizer: ${optimizer}`);
  return training ? text.replace(/training:\n/, `training:\n${training}`) : text;
}
const specOf = (text: string): ModelSpec => {
  const r = validateModelConfig(text, 'm.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.spec;
};
function errorAt(text: string, needle: string, message: string | RegExp): void {
  const r = validateModelConfig(text, 'bad.yaml');
  assert.is(r.ok, false, 'refused');
  const e = !r.ok ? r.errors[0]! : undefined;
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.includes(needle)) + 1;
  assert.is(e?.line, line, `line of ${needle}: ${e?.message}`);
  assert.is(e?.column, lines[line - 1]!.indexOf(needle) + 1, `column of ${needle}`);
  assert.match(e!.message, message);
}

test('config: Keras defaults per optimizer; a schedule object as learning_rate', () => {
  assert.equal(specOf(withOptimizer('{type: sgd}')).optimizer, { type: 'sgd', learning_rate: 0.01, momentum: 0, nesterov: false });
  assert.equal(specOf(withOptimizer('{type: adamw}')).optimizer, { type: 'adamw', learning_rate: 0.001, weight_decay: 0.004, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false });
  assert.equal(specOf(withOptimizer('{type: rmsprop}')).optimizer, { type: 'rmsprop', learning_rate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false });
  const s = specOf(withOptimizer('\n  type: sgd\n  learning_rate: {type: cosine_decay, initial_learning_rate: 0.1, decay_steps: 100, warmup_target: 0.2, warmup_steps: 5}'));
  assert.equal(s.optimizer.learning_rate, { type: 'cosine_decay', initial_learning_rate: 0.1, decay_steps: 100, warmup_target: 0.2, warmup_steps: 5, alpha: 0 });
});

test('config errors at line:col: momentum outside [0, 1), negative weight_decay, boundaries/values lengths, reduce_lr_on_plateau with a schedule', () => {
  errorAt(withOptimizer('{type: sgd, momentum: 1.0}'), '1.0', /'momentum' must be >= 0 and < 1, found 1/);
  errorAt(withOptimizer('{type: rmsprop, momentum: -0.5}'), '-0.5', /'momentum' must be >= 0 and < 1, found -0.5/);
  errorAt(withOptimizer('{type: adamw, weight_decay: -0.01}'), '-0.01', /'weight_decay' must be >= 0, found -0.01/);
  errorAt(withOptimizer('\n  type: sgd\n  learning_rate:\n    type: piecewise_constant_decay\n    boundaries: [100, 200]\n    values: [0.1, 0.01]'),
    '[0.1, 0.01]', /piecewise_constant_decay: values has 2 entries and boundaries 2; values needs one more than boundaries \(3\)/);
  errorAt(withOptimizer('{type: sgd, learning_rate: {type: piecewise_constant_decay, boundaries: [100, 50], values: [0.1, 0.01, 0.001]}}'),
    '50]', /boundaries must increase, but boundaries\[1\] = 50 follows 100/);
  errorAt(withOptimizer('{type: sgd, learning_rate: {type: cosine_decay, initial_learning_rate: 0.1, decay_steps: 10}}',
    '  validation_split: 0.1\n  callbacks:\n    - {type: reduce_lr_on_plateau}\n'), 'reduce_lr_on_plateau', /reduce_lr_on_plateau cannot change the learning rate: optimizer.learning_rate is a cosine_decay schedule/);
  errorAt(withOptimizer('{type: sgd, learning_rate: {type: linear_decay}}'), 'linear_decay', /unknown learning-rate schedule type 'linear_decay'; expected one of: exponential_decay, cosine_decay, piecewise_constant_decay/);
  errorAt(withOptimizer('{type: rmsporp}'), 'rmsporp', /unknown optimizer type 'rmsporp'; expected one of: adam, adamw, rmsprop, sgd; did you mean 'rmsprop'\?/);
  errorAt(withOptimizer('{type: sgd, beta_1: 0.9}'), 'beta_1', /unknown key 'beta_1'/);
});

test('lowering: state buffers per optimizer (kind optimizer_state, listed in ParamInfo.state) and one update op per parameter', () => {
  const cases: [string, string[], string][] = [
    ['{type: adam}', ['m', 'v'], 'adam'],
    ['{type: adam, amsgrad: true}', ['m', 'v', 'vhat'], 'adamw'],
    ['{type: adamw}', ['m', 'v'], 'adamw'],
    ['{type: sgd}', [], 'sgd'],
    ['{type: sgd, momentum: 0.9, nesterov: true}', ['momentum'], 'sgd'],
    ['{type: rmsprop}', ['rms'], 'rmsprop'],
    ['{type: rmsprop, momentum: 0.9, centered: true}', ['rms', 'momentum', 'mg'], 'rmsprop'],
  ];
  for (const [opt, suffixes, kind] of cases) {
    const g = compileGraph(specOf(withOptimizer(opt)));
    for (const p of g.params) assert.equal(p.state, suffixes.map((s) => `${p.name}:${s}`), `${opt}: ${p.name}`);
    const state = g.buffers.filter((b) => b.kind === 'optimizer_state').map((b) => b.name);
    assert.equal(state, g.params.flatMap((p) => p.state), `${opt}: the optimizer_state buffers`);
    assert.equal(g.update.map((o) => o.kind), g.params.map(() => kind), opt);
  }
  const amsgrad = compileGraph(specOf(withOptimizer('{type: adam, amsgrad: true}'))).update[0] as unknown as { weightDecay: number; vhat: string };
  assert.is(amsgrad.weightDecay, 0, 'adam with amsgrad: adamw without decay');
  const sched = compileGraph(specOf(withOptimizer('{type: sgd, learning_rate: {type: exponential_decay, initial_learning_rate: 0.2, decay_steps: 5, decay_rate: 0.5}}')));
  assert.is(sched.optimizer.learningRate, 0.2);
  assert.equal(sched.optimizer.schedule?.type, 'exponential_decay');
});

test('gradients: the L1L2 regularizer\'s gradient, clipvalue, clipnorm and global_clipnorm against the Keras formulas', () => {
  // Keras L1L2: penalty l1·Σ|w| + l2·Σw², gradient l1·sign(w) + 2·l2·w (sign(0) = 0); clipvalue: ops.clip(g, -v, v).
  const p = Float32Array.from([0.5, -0.25, 0, 2]), g = Float32Array.from([0.1, -0.2, 0.3, -0.05]);
  gradPrep(p, g, 4, 0.01, 0.1, 0);
  close(g, [0.1 + 0.01 + 0.1, -0.2 - 0.01 - 0.05, 0.3, -0.05 + 0.01 + 0.4], 'regularized');
  gradPrep(p, g, 4, 0, 0, 0.25);
  close(g, [0.21, -0.25, 0.25, 0.25], 'clipped to ±0.25');
  // Keras _clip_by_norm: g·clipnorm / max(‖g‖, clipnorm); a norm under clipnorm leaves g as it is.
  const a = Float32Array.from([3, 4]), sum = new Float32Array(1);
  gradSumSquares(a, sum, 2, false);
  assert.is(sum[0], 25);
  gradClip(a, sum, 2, 1);
  close(a, [0.6, 0.8], 'clipnorm 1 of a norm-5 gradient');
  const small = Float32Array.from([0.3, 0.4]);
  gradSumSquares(small, sum, 2, false); gradClip(small, sum, 2, 1);
  close(small, [0.3, 0.4], 'under the norm: unchanged');
  // Keras clip_by_global_norm: every tensor · clip·min(1/global, 1/clip), global = √Σ over all tensors.
  const t1 = Float32Array.from([3, 0]), t2 = Float32Array.from([0, 4, 12]);
  gradSumSquares(t1, sum, 2, false); gradSumSquares(t2, sum, 3, true);
  assert.is(sum[0], 169);
  gradClip(t1, sum, 2, 6.5); gradClip(t2, sum, 3, 6.5);
  close(t1, [1.5, 0], 'global norm 13 clipped to 6.5: half'); close(t2, [0, 2, 6], 'the same scale');
  const zero = new Float32Array(2);
  gradSumSquares(zero, sum, 2, false); gradClip(zero, sum, 2, 1);
  close(zero, [0, 0], 'a zero gradient stays zero (no NaN)');
});

test('lowering: regularizers and clipping emit grad_prep / grad_norm / grad_clip before the updates, in Keras\'s order', () => {
  const reg = (text: string) => text.replace('    units: 128\n', '    units: 128\n    kernel_regularizer: {l2: 0.01, l1: 0.001}\n');
  const kinds = (g: ReturnType<typeof compileGraph>) => g.update.map((o) => `${o.kind} ${o.layer}`);
  const g1 = compileGraph(specOf(reg(withOptimizer('{type: sgd}'))));
  assert.equal(kinds(g1), ['grad_prep dense_1/kernel', 'sgd dense_1/kernel', 'sgd dense_1/bias', 'sgd dense_2/kernel', 'sgd dense_2/bias']);
  assert.equal((g1.update[0] as unknown as { l1: number; l2: number }), { ...g1.update[0], l1: 0.001, l2: 0.01 });
  assert.equal(g1.params[0]!.regularizer, { l1: 0.001, l2: 0.01 });
  const tail = (ops: { kind: string; layer: string }[]) => ops.slice(-2).map((o) => `${o.kind} ${o.layer}`);
  assert.equal(tail(g1.forward), ['reg_penalty dense_1/kernel', 'softmax_xent loss'], 'the penalty joins the loss the forward pass reports');
  assert.equal(tail(g1.inference), ['reg_penalty dense_1/kernel', 'softmax_xent loss'], 'and the evaluated loss');
  const g2 = compileGraph(specOf(withOptimizer('{type: sgd, global_clipnorm: 1}')));
  assert.equal(kinds(g2).map((k) => k.split(' ')[0]), ['grad_norm', 'grad_norm', 'grad_norm', 'grad_norm', 'grad_clip', 'grad_clip', 'grad_clip', 'grad_clip', 'sgd', 'sgd', 'sgd', 'sgd']);
  const norms = g2.update.filter((o) => o.kind === 'grad_norm') as unknown as { out: string; accumulate: boolean }[];
  assert.equal(norms.map((o) => o.accumulate), [false, true, true, true], 'the first sum starts, the rest add');
  assert.ok(norms.every((o) => o.out === norms[0]!.out), 'one global sum');
  assert.equal(g2.buffers.filter((b) => b.kind === 'grad_norm').map((b) => [b.name, b.floats]), [['optimizer:global_norm', 1]]);
  const g3 = compileGraph(specOf(withOptimizer('{type: adam, clipnorm: 1}')));
  assert.is(g3.buffers.filter((b) => b.kind === 'grad_norm').length, 4, 'clipnorm: one sum per parameter');
  const g4 = compileGraph(specOf(reg(withOptimizer('{type: rmsprop, clipvalue: 0.5}'))));
  assert.equal(g4.update.filter((o) => o.kind === 'grad_prep').map((o) => (o as unknown as { l2: number; clipvalue: number })).map((o) => [o.l2, o.clipvalue]),
    [[0.01, 0.5], [0, 0.5], [0, 0.5], [0, 0.5]], 'clipvalue on every gradient, the regularizer on the kernel');
  errorAt(withOptimizer('{type: sgd, clipnorm: 1, clipvalue: 0.5}'), 'clipvalue', /only one of clipnorm, clipvalue and global_clipnorm can be set; found clipnorm and clipvalue/);
  errorAt(reg(withOptimizer('{type: sgd}')).replace('l2: 0.01', 'l2: -0.01'), '-0.01', /'l2' must be >= 0, found -0.01/);
});

test('docs/model-yaml.md has a section per optimizer and per schedule listing every key, and kernel_regularizer\'s', () => {
  const docs = readFileSync('docs/model-yaml.md', 'utf8');
  const defs = schema.definitions as unknown as Record<string, { properties: Record<string, unknown> }>;
  const section = (title: string) => {
    const at = docs.indexOf(`\n## ${title}\n`);
    assert.ok(at >= 0, `a section '${title}'`);
    const end = docs.indexOf('\n## ', at + 1);
    return docs.slice(at, end < 0 ? undefined : end);
  };
  for (const [name, title] of [['optimizer_adam', 'Optimizer `adam`'], ['optimizer_adamw', 'Optimizer `adamw`'], ['optimizer_sgd', 'Optimizer `sgd`'], ['optimizer_rmsprop', 'Optimizer `rmsprop`'],
    ['schedule_exponential_decay', 'Schedule `exponential_decay`'], ['schedule_cosine_decay', 'Schedule `cosine_decay`'], ['schedule_piecewise_constant_decay', 'Schedule `piecewise_constant_decay`'],
    ['kernelRegularizer', '`kernel_regularizer` (dense, conv2d)']] as const) {
    const text = section(title);
    for (const key of Object.keys(defs[name]!.properties)) assert.ok(text.includes(`| \`${key}\` |`), `${title} lists ${key}`);
  }
});

test.run();
