// Ctrl-C during `tessera train --save` on every backend: the command stops
// after the current chunk of steps, exits 130, and the resumable checkpoint
// it saves holds exactly the weights and Adam moments of the step where it
// stopped. The test checks that by
// training again in this process, on the same backend, from the same seed
// and data, for exactly the number of steps the CLI reports, and comparing
// the saved tensors with those parameters (and with those one step earlier,
// which must differ, so the comparison can tell steps apart). The reference
// drives the Backend interface itself, not the trainer the CLI uses.
//
// WebGPU: under CI=true a missing adapter fails the webgpu case; otherwise
// it is skipped with a loud note.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelConfig } from '../src/config/load-file.js';
import { takeExamples } from '../src/data/idx.js';
import { loadMnist } from '../src/data/node.js';
import { createNodeBackend } from '../src/node-backends.js';
import { requestNodeGpu } from '../src/node/webgpu.js';
import type { BackendName } from '../src/runtime/backend.js';
import { compileGraph } from '../src/runtime/graph.js';
import { decodeSafetensorsFile } from '../src/runtime/safetensors.js';
import { stateBufferNames } from '../src/runtime/checkpoint.js';
import { CLI_ARGS, CLI_ENV } from './support/cli.js';
import { paramsAt } from './support/params-at.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-interrupt-'));
const CI = process.env.CI === 'true' || process.env.CI === '1';
const LIMIT = 20_000; // 625 steps of 32 per epoch
const EPOCHS = 5;

interface Interrupted { code: number | null; stdout: string; stderr: string }

/** `tessera train` with --save; SIGINT as soon as the first progress line is out. */
function trainAndInterrupt(backend: BackendName, save: string): Promise<Interrupted> {
  const args = [...CLI_ARGS, 'train', 'models/mnist.yaml', '--backend', backend, '--epochs', String(EPOCHS), '--limit', String(LIMIT), '--save', save];
  const child = spawn(process.execPath, args, { env: CLI_ENV });
  let stdout = '', stderr = '', sent = false;
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdout.on('data', (d) => {
    stdout += d;
    if (!sent && / samples\/s /.test(stdout)) { sent = true; child.kill('SIGINT'); }
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}


/** The parameters after `steps` steps, and after one step fewer; the optimizer state after `steps`. */
async function reference(name: BackendName, steps: number): Promise<{ now: Float32Array[]; before: Float32Array[]; names: string[]; state: Map<string, Float32Array> }> {
  const spec = await loadModelConfig('models/mnist.yaml');
  const graph = compileGraph(spec);
  const train = takeExamples((await loadMnist(spec.dataset, 'models')).train, LIMIT);
  const { backend } = await createNodeBackend(name);
  try {
    assert.is(backend.name, name);
    const [before, now] = await paramsAt(backend, graph, train, spec, [steps - 1, steps]) as [Float32Array[], Float32Array[]];
    const names = stateBufferNames(graph);
    const state = await backend.readBuffers(names);
    return { now, before, names: graph.params.map((p) => p.name), state: new Map(names.map((n, i) => [n, state[i]!])) };
  } finally {
    backend.dispose();
  }
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let d = 0, s = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i]! - b[i]!)); s = Math.max(s, Math.abs(b[i]!)); }
  return s > 0 ? d / s : d;
}

async function check(backend: BackendName): Promise<void> {
  const save = join(dir, `${backend}.safetensors`);
  const r = await trainAndInterrupt(backend, save);
  assert.is(r.code, 130, r.stdout + r.stderr);
  assert.match(r.stderr, 'stopping after the current steps and saving a resumable checkpoint');
  const m = /interrupted in epoch (\d+)\/5 after step (\d+)\/625/.exec(r.stdout);
  assert.ok(m, r.stdout);
  const steps = (Number(m![1]) - 1) * 625 + Number(m![2]);
  assert.ok(steps > 0 && steps < EPOCHS * 625, `stopped early, after ${steps} steps`);
  assert.match(r.stdout, `saved a resumable checkpoint (weights, optimizer state, step ${steps}) to ${save}`);
  assert.match(r.stdout, `continue with: tessera train models/mnist.yaml --backend ${backend} --epochs ${EPOCHS} --limit ${LIMIT} --save ${save} --resume ${save}`);
  const file = decodeSafetensorsFile(new Uint8Array(readFileSync(save)), save);
  assert.is(file.metadata.status, 'interrupted');
  assert.is(file.metadata.format, 'tessera-checkpoint/1');
  assert.is(file.metadata.backend, backend);
  assert.is(file.metadata.steps, String(steps), 'the file says how many steps its weights have had');

  const ref = await reference(backend, steps);
  for (const [i, name] of ref.names.entries()) {
    const saved = file.tensors.get(name)?.data;
    assert.ok(saved, `tensor ${name} saved`);
    // Same backend, same seed, same order, same chunks: the same numbers (float summation order is fixed per backend).
    const err = maxRelDiff(saved!, ref.now[i]!);
    assert.ok(err <= 1e-6, `${backend} ${name}: saved weights differ from those after step ${steps} by ${err.toExponential(2)} (relative)`);
  }
  for (const [name, want] of ref.state) {
    const saved = file.tensors.get(`state/${name}`)?.data;
    assert.ok(saved, `optimizer state ${name} saved`);
    const err = maxRelDiff(saved!, want);
    assert.ok(err <= 1e-6, `${backend} ${name}: saved optimizer state differs from that after step ${steps} by ${err.toExponential(2)} (relative)`);
  }
  // The comparison tells one step from the next: the weights one step earlier are clearly different.
  const apart = Math.max(...ref.names.map((_, i) => maxRelDiff(ref.before[i]!, ref.now[i]!)));
  assert.ok(apart > 1e-4, `one step moves the weights by ${apart.toExponential(2)} (relative)`);
}

test('wasm: Ctrl-C saves exactly the weights of the step where training stopped, exit 130', () => check('wasm'));

test('js: Ctrl-C saves exactly the weights of the step where training stopped, exit 130', () => check('js'));

const gpu = await requestNodeGpu();
if (gpu.gpu) {
  test('webgpu: Ctrl-C saves exactly the weights of the step where training stopped, exit 130', () => check('webgpu'));
} else {
  console.error(`\n${'!'.repeat(78)}\n!! interrupt: NO WEBGPU ADAPTER — ${gpu.reason}\n${'!'.repeat(78)}\n`);
  if (CI) test('a WebGPU adapter is available (required under CI=true)', () => { throw new Error(`no WebGPU adapter: ${gpu.reason}`); });
  else test.skip('webgpu: Ctrl-C (no adapter; CI=true makes this a failure)', () => {});
}

test.run();
