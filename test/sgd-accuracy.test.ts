// The SGD flagship, models/mnist-sgd.yaml (the MLP of models/mnist.yaml
// with SGD, Nesterov momentum 0.9 and a cosine learning-rate schedule over
// the run's 9,375 steps), trains for its 5 epochs to at least 97.5% test
// accuracy from the CLI on wasm (about 25 s; measured 98.04%).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModelConfig } from '../src/config/index.js';
import { tessera } from './support/cli.js';

test('models/mnist-sgd.yaml is SGD with nesterov momentum 0.9 and a cosine schedule over its 5 epochs', async () => {
  const spec = await loadModelConfig('models/mnist-sgd.yaml');
  const o = spec.optimizer;
  assert.is(o.type, 'sgd');
  if (o.type !== 'sgd') return;
  assert.equal([o.momentum, o.nesterov], [0.9, true]);
  const lr = o.learning_rate;
  assert.ok(typeof lr === 'object' && lr.type === 'cosine_decay', 'a cosine schedule');
  if (typeof lr === 'object' && lr.type === 'cosine_decay') assert.is(lr.decay_steps, spec.training.epochs * Math.ceil(60000 / spec.training.batch_size), 'decays over the whole run');
});

test('mnist-sgd trains to >= 97.5% test accuracy in 5 epochs on wasm', async () => {
  const run = await tessera('train', 'models/mnist-sgd.yaml', '--backend', 'wasm');
  assert.is(run.code, 0, `tessera train failed:\n${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /^backend: wasm /m, 'it ran on wasm');
  assert.match(run.stdout, /^epoch 5\/5 {2}loss/m, 'all 5 epochs');
  const m = /test\s+loss [\d.]+\s+accuracy ([\d.]+)%/.exec(run.stdout);
  assert.ok(m, `no test accuracy line in:\n${run.stdout.slice(-2000)}`);
  console.log(`  mnist-sgd, 5 epochs, wasm: test accuracy ${m![1]}%`);
  assert.ok(Number(m![1]) >= 97.5, `test accuracy ${m![1]}%`);
});

test.run();
