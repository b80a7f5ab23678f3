// A second model family through the op registry: models/mnist-gelu.yaml
// (the flagship with a GELU hidden layer, so dense_forward is followed by
// the gelu op and its backward) trains for its 5 epochs to at least 97%
// test accuracy from the CLI, on wasm and on webgpu. Under CI=true a missing
// WebGPU adapter fails the webgpu case; otherwise it is skipped loudly.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { requestNodeGpu } from '../src/node/webgpu.js';
import { tessera } from './support/cli.js';

const CI = process.env.CI === 'true' || process.env.CI === '1';

async function trainedAccuracy(backend: string): Promise<number> {
  const run = await tessera('train', 'models/mnist-gelu.yaml', '--backend', backend);
  assert.is(run.code, 0, `tessera train --backend ${backend} failed:\n${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, new RegExp(`^backend: ${backend} `, 'm'), 'it ran on the backend asked for');
  const m = /test\s+loss [\d.]+\s+accuracy ([\d.]+)%/.exec(run.stdout);
  assert.ok(m, `no test accuracy line in:\n${run.stdout.slice(-2000)}`);
  console.log(`  mnist-gelu, 5 epochs, ${backend}: test accuracy ${m![1]}%`);
  return Number(m![1]);
}

test('mnist-gelu trains to >= 97% test accuracy on wasm', async () => {
  assert.ok((await trainedAccuracy('wasm')) >= 97);
});

const gpu = await requestNodeGpu();
if (gpu.gpu) {
  test('mnist-gelu trains to >= 97% test accuracy on webgpu', async () => {
    assert.ok((await trainedAccuracy('webgpu')) >= 97);
  });
} else if (CI) {
  test('a WebGPU adapter is available (required under CI=true)', () => assert.unreachable(`no WebGPU adapter: ${gpu.reason}`));
} else {
  console.error(`\n!! activation-accuracy: SKIPPED webgpu: no adapter (${gpu.reason}); CI=true makes this a failure\n`);
}

test.run();
