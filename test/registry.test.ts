// The op registry (src/ops) against everything that must agree with it:
// the WGSL files (each kernel an op names exists and declares exactly the
// storage bindings, with the access, that the op binds; the shared parts of
// kernels/wgsl/parts are no kernels and are each used), the custom-kernel
// contracts (what each op's dispatch hands a user's kernel is what its
// contract says), the AssemblyScript module (every op's function is
// exported with its parameter count), docs/kernels.md (generated from the
// registry, every replaceable op documented) and the schema's `kernels:`
// names (exactly the replaceable ops). Everything loops over the registry:
// a new op is checked with no edit here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchOps, randomFloats } from '../src/bench/ops.js';
import { kernelOpNames } from '../src/config/kernels.js';
import { modelSchema, validateModelConfig } from '../src/config/validate.js';
import { OPS, replaceableOps } from '../src/ops/index.js';
import type { GpuDispatch, GpuEnv, OpDef } from '../src/ops/types.js';
import { CUSTOM_CODE_OFFSET, WASM_HELPERS } from '../src/ops/wasm-helpers.js';
import { instantiateKernels, kernelBytes } from '../src/runtime/wasm/module.js';
import { kernelSource, partsUsed } from '../src/runtime/webgpu/kernels.js';
import { WGSL_PARTS, WGSL_SOURCES } from '../src/generated/kernels.js';
import { KERNEL_DOCS, regions, renderKernelDocs } from '../scripts/gen-kernel-docs.js';
import { tessera } from './support/cli.js';

const defs = OPS as unknown as readonly OpDef[];
const WGSL_DIR = 'kernels/wgsl';

/** Comments blanked out (line structure kept), so declarations are found in code only. */
const stripComments = (src: string) => src.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' ')).replace(/\/\/[^\n]*/g, '');

/** `@group(g) @binding(n) var<storage, read|read_write>` declarations of a WGSL file: binding → access. */
function storageBindings(src: string): Map<number, string> {
  const out = new Map<number, string>();
  const re = /@group\(\s*(\d+)\s*\)\s*@binding\(\s*(\d+)\s*\)\s*var\s*<\s*storage\s*(?:,\s*(read|read_write)\s*)?>/g;
  for (const m of stripComments(src).matchAll(re)) {
    assert.is(m[1], '0', `binding ${m[2]} is in group 0`);
    assert.not.ok(out.has(Number(m[2])), `binding ${m[2]} declared once`);
    out.set(Number(m[2]), m[3] ?? 'read');
  }
  return out;
}

test('every registered op is benchable and replaceable: it has a bench spec and a custom-kernel contract', () => {
  for (const d of defs) {
    assert.ok(d.bench, `${d.kind} has a bench spec`);
    assert.ok(d.custom, `${d.kind} has a custom-kernel contract`);
  }
});

test('wasm op codes are unique and below CUSTOM_CODE_OFFSET, where the codes of users\' kernels start', () => {
  const seen = new Map<number, string>();
  for (const d of defs) {
    assert.ok(d.wasm.code > 0 && d.wasm.code < CUSTOM_CODE_OFFSET, `${d.kind}: code ${d.wasm.code} is not in 1…${CUSTOM_CODE_OFFSET - 1} (code + ${CUSTOM_CODE_OFFSET} runs a custom kernel)`);
    assert.not.ok(seen.has(d.wasm.code), `${d.kind} and ${seen.get(d.wasm.code)} share wasm code ${d.wasm.code}`);
    seen.set(d.wasm.code, d.kind);
  }
});

test('every WGSL kernel an op names exists and declares exactly its bindings 1… with that access', () => {
  const seen = new Set<string>();
  for (const d of defs) {
    for (const [kernel, access] of Object.entries(d.webgpu.kernels)) {
      const file = join(WGSL_DIR, `${kernel}.wgsl`);
      assert.ok(existsSync(file), `${d.kind}: ${file} exists`);
      const declared = storageBindings(readFileSync(file, 'utf8'));
      const want = new Map(access.map((a, i) => [i + 1, a === 'read' ? 'read' : 'read_write']));
      assert.equal([...declared].sort(([a], [b]) => a - b), [...want], `${d.kind}: ${kernel}.wgsl bindings (number, access)`);
      seen.add(kernel);
    }
  }
  assert.ok(seen.size > 0);
});

test('WGSL parts (kernels/wgsl/parts) are no kernels: no bindings or entry point, each used; a kernel gets each part it names once, after the prelude', () => {
  const parts = readdirSync(join(WGSL_DIR, 'parts')).filter((f) => f.endsWith('.wgsl')).map((f) => f.replace(/\.wgsl$/, '')).sort();
  assert.equal(Object.keys(WGSL_PARTS).sort(), parts, 'the build embeds exactly the part files (rebuild with node scripts/build.mjs kernels?)');
  const used = new Set<string>();
  for (const d of defs) for (const kernel of Object.keys(d.webgpu.kernels)) {
    const own = readFileSync(join(WGSL_DIR, `${kernel}.wgsl`), 'utf8');
    const full = kernelSource(kernel);
    assert.ok(full.startsWith(`${WGSL_SOURCES.prelude}\n`) && full.endsWith(own), `${kernel}: the prelude first, the kernel's file last`);
    for (const part of partsUsed(own)) {
      assert.ok(parts.includes(part), `${kernel}.wgsl uses part '${part}', which kernels/wgsl/parts lacks`);
      assert.is(full.split(WGSL_PARTS[part]!).length, 2, `${kernel}: part ${part} pasted once`);
      used.add(part);
    }
  }
  for (const part of parts) {
    const code = stripComments(WGSL_PARTS[part]!);
    assert.ok(used.has(part), `part ${part} is used by some kernel`);
    assert.not.ok(existsSync(join(WGSL_DIR, `${part}.wgsl`)), `part ${part} is not also a kernel's name`);
    assert.not.match(code, /@binding|@compute|fn\s+main\b/, `part ${part} declares no binding or entry point`);
  }
  assert.throws(() => kernelSource('k', { prelude: '', k: '// uses: nowhere\n' }, {}), /uses part 'nowhere'/);
  assert.throws(() => kernelSource('k', { prelude: '', k: '// uses: a\n' }, { a: '// uses: b\n' }), /parts cannot use other parts/);
  assert.is(kernelSource('k', { prelude: 'P', k: '// uses: a, b\n// uses: a\nK' }, { a: 'A', b: 'B' }), 'P\nA\nB\n// uses: a, b\n// uses: a\nK');
});

/** A GpuEnv without a device: records what the op's dispatches hand a user's kernel. */
function recordingEnv(B: number, onCustom: (constants: Record<string, unknown>, buffers: number, rows: number, cols: number) => void): GpuEnv {
  const binding = () => ({}) as GPUBufferBinding;
  const fake = (kernel: string): GpuDispatch => ({ pipeline: {} as GPUComputePipeline, group: {} as GPUBindGroup, x: 1, y: 1, kernel });
  return {
    B, mode: 'train', range: binding, scratch: binding, span: () => null, labels: binding, metrics: binding, keySlot: () => 0,
    dataset: () => ({ images: binding(), labels: binding(), targets: binding(), order: binding(), label: 'recorded' }),
    optimizer: { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }, prefer: { denseForward: 'register' },
    dispatch: async (kernel) => fake(kernel),
    custom: async (_detail, constants, buffers, rows, cols) => { onCustom(constants, buffers.length, rows, cols); return fake('custom'); },
  };
}

test('each replaceable op hands a user\'s kernel what its contract says: overrides, bindings on the contract kernel\'s layout, output rows × cols', async () => {
  for (const d of replaceableOps()) {
    const c = d.custom!;
    const contractKernel = Object.entries(d.webgpu.kernels)[0];
    assert.ok(contractKernel, `${d.kind} has a WGSL kernel`);
    assert.equal(c.bindings.map((b) => b.access), [...contractKernel![1]], `${d.kind}: contract bindings have the access of ${contractKernel![0]}.wgsl, whose layout a custom kernel is bound with`);
    assert.ok(d.bench, `${d.kind}: a replaceable op has a bench spec, so its custom kernels can be checked`);
    const dims = d.bench!.fromMKN([3, 7, 5]);
    const inst = d.bench!.instance(dims, randomFloats());
    const calls: [Record<string, unknown>, number, number, number][] = [];
    await d.webgpu.dispatches(inst.op, recordingEnv(inst.rows, (...a) => calls.push(a)));
    assert.is(calls.length, 1, `${d.kind}: one custom dispatch`);
    const [constants, buffers, rows, cols] = calls[0]!;
    assert.equal(Object.keys(constants).sort(), [...c.overrides].sort(), `${d.kind}: the overrides set are the contract's`);
    assert.is(buffers, c.bindings.length, `${d.kind}: storage bindings`);
    assert.equal([rows, cols], c.output(dims), `${d.kind}: output covered`);
    assert.is(c.outputNames.length, 2);
  }
});

test('every op\'s AssemblyScript function is exported with its parameter count; the module imports env.custom_<op> for each replaceable op', async () => {
  const module = new WebAssembly.Module(kernelBytes('simd') as BufferSource);
  const exported = new Set(WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name));
  const k = (await instantiateKernels('simd')) as unknown as Record<string, unknown>;
  for (const w of [...defs.map((d) => ({ name: d.kind, ...d.wasm })), ...WASM_HELPERS]) {
    assert.ok(exported.has(w.fn), `${w.name}: ${w.fn} is exported (rebuild with node scripts/build.mjs kernels?)`);
    assert.is((k[w.fn] as (...a: number[]) => void).length, w.params.length, `${w.name}: ${w.fn} takes ${w.params.length} parameters`);
  }
  const imports = new Set(WebAssembly.Module.imports(module).filter((i) => i.kind === 'function').map((i) => `${i.module}.${i.name}`));
  for (const d of replaceableOps()) assert.ok(imports.has(`env.custom_${d.kind}`), `imports env.custom_${d.kind}`);
});

test('docs/kernels.md is generated from the registry and documents every replaceable op\'s WGSL and AssemblyScript contract', () => {
  const text = readFileSync(KERNEL_DOCS, 'utf8');
  // Throws when a region's markers are missing; differs when a table is stale.
  assert.ok(renderKernelDocs(text) === text, 'docs/kernels.md is out of date: run node --import tsx scripts/gen-kernel-docs.ts');
  const r = regions();
  for (const d of replaceableOps()) {
    assert.ok(r['wgsl-contracts']!.includes(`| \`${d.kind}\` |`), `${d.kind} has a WGSL contract row`);
    assert.ok(r['as-contracts']!.includes(`\`export function ${d.kind}(`), `${d.kind} has an AssemblyScript signature`);
  }
  for (const d of defs) assert.ok(r.ops!.includes(`| \`${d.kind}\` |`), `${d.kind} is in the table of ops`);
  for (const kind of benchOps()) assert.ok(text.includes(`\`${kind}\``));
});

const MNIST = readFileSync('models/mnist.yaml', 'utf8');
const withKernels = (entries: Record<string, string>) => `${MNIST.trimEnd()}\nkernels:\n${Object.entries(entries).map(([op, f]) => `  ${op}: ${f}`).join('\n')}\n`;

test('the schema\'s kernels: names are the replaceable ops; an unknown or non-replaceable one is an error at its key with a did-you-mean', () => {
  const kinds = replaceableOps().map((d) => d.kind);
  assert.equal(kernelOpNames(), kinds);
  const block = (modelSchema.properties as Record<string, { properties: Record<string, unknown> }>).kernels;
  assert.equal(Object.keys(block.properties), kinds);
  const all = validateModelConfig(withKernels(Object.fromEntries(kinds.map((k) => [k, `./${k}.wgsl`]))), 'all.yaml');
  assert.ok(all.ok, all.ok ? '' : all.errors.map((e) => e.message).join('\n'));
  const first = kinds[0]!;
  const typo = `${first.slice(0, -1)}x${first.slice(-1)}`;
  const text = withKernels({ [typo]: './k.wgsl' });
  const bad = validateModelConfig(text, 'typo.yaml');
  assert.is(bad.ok, false);
  const e = !bad.ok ? bad.errors[0]! : undefined;
  const line = text.split('\n').findIndex((l) => l.includes(typo)) + 1;
  assert.equal([e?.line, e?.column, e?.code], [line, 3, 'unknown-key']);
  assert.match(e!.message, `did you mean '${first}'?`);
  for (const d of defs.filter((x) => x.custom === null)) {
    const r = validateModelConfig(withKernels({ [d.kind]: './k.wgsl' }), 'no.yaml');
    assert.is(r.ok, false, `${d.kind} has no contract, so kernels: may not name it`);
  }
});

test('tessera validate: a kernels: file that does not exist, or is not .wgsl/.ts, exits 1 at the entry\'s line:col', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-registry-'));
  writeFileSync(join(dir, 'here.wgsl'), '// exists\n');
  const text = `${withKernels({ dense_forward: './here.wgsl' })}`.replace('kernels:\n', 'kernels:\n  relu_backward: ./missing.wgsl\n  adam: ./adam.cu\n');
  const file = join(dir, 'model.yaml');
  writeFileSync(file, text);
  const r = await tessera('validate', file);
  assert.is(r.code, 1, r.stdout);
  const lines = text.split('\n');
  const at = (needle: string) => { const l = lines.findIndex((x) => x.includes(needle)); return `${l + 1}:${lines[l]!.indexOf(needle) + 1}`; };
  assert.match(r.stderr, `${file}:${at('./missing.wgsl')}: error: the custom relu_backward kernel './missing.wgsl' does not exist`);
  assert.match(r.stderr, `${file}:${at('./adam.cu')}: error: the custom adam kernel './adam.cu' is neither a .wgsl file`);
  assert.not.match(r.stderr, /here\.wgsl/);
  assert.match(r.stderr, /2 errors in /);
});

test.run();
