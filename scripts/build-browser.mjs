// The browser builds (esbuild):
//   src/browser.ts -> dist/browser/tessera.js   the library as one ESM file
//   web/app.ts     -> dist/web/app.js           the demo page (imports the library source)
//
// Both are platform 'browser'. A Node built-in (node:fs, path, …) or a
// Node-only package (the `webgpu` Dawn binding) reachable from either entry
// fails the build and names the file that imported it, so a Node import can
// never sneak into the bundle. The WGSL sources and the .wasm kernels are
// already strings in src/generated/kernels.ts (scripts/build.mjs), so the
// bundle needs no other files.
//
//   node scripts/build-browser.mjs            # build both
//   node scripts/build-browser.mjs --minify   # smaller, for publishing
//
// Also importable: `await buildBrowser({ quiet: true })` (the browser test does).
import { builtinModules } from 'node:module';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Packages that only work in Node (native code); importing one from browser code is a bug. */
const NODE_ONLY_PACKAGES = ['webgpu'];

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** esbuild plugin: any Node built-in or Node-only package is a build error naming the importer. */
export const noNodeImports = {
  name: 'no-node-imports',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      const spec = args.path;
      const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      if (builtins.has(spec) || spec.startsWith('node:') || NODE_ONLY_PACKAGES.includes(pkg)) {
        const from = args.importer ? relative(root, args.importer) : '(entry)';
        return {
          errors: [{
            text: `browser build: '${spec}' is Node-only, imported by ${from}. Browser code must not import Node modules; move the Node part into a Node-only file (src/node.ts, src/data/node.ts …).`,
          }],
        };
      }
      return undefined;
    });
  },
};

/** esbuild plugin for the page: its `../src/browser.js` import becomes the library bundle, './tessera.js', loaded at run time. */
const libraryAsBundle = {
  name: 'library-as-bundle',
  setup(build) {
    build.onResolve({ filter: /(^|\/)src\/browser(\.js|\.ts)?$/ }, () => ({ path: './tessera.js', external: true }));
  },
};

export async function buildBrowser({ minify = false, quiet = false } = {}) {
  const esbuild = await import('esbuild');
  const generated = join(root, 'src/generated/kernels.ts');
  if (!existsSync(generated)) {
    throw new Error('src/generated/kernels.ts is missing: run `npm run build` (or `node scripts/build.mjs kernels`) first');
  }
  const common = {
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome113'],
    sourcemap: true,
    minify,
    legalComments: 'none',
    logLevel: 'silent',
    metafile: true,
    absWorkingDir: root,
    plugins: [noNodeImports],
    define: { 'process.env.NODE_ENV': '"production"' },
  };
  const builds = [
    { entryPoints: ['src/browser.ts'], outfile: 'dist/browser/tessera.js' },
    { entryPoints: ['web/app.ts'], outfile: 'dist/web/app.js', plugins: [libraryAsBundle, noNodeImports] },
  ];
  const t0 = Date.now();
  const outputs = [];
  for (const b of builds) {
    let result;
    try {
      result = await esbuild.build({ ...common, ...b });
    } catch (err) {
      // esbuild's BuildFailure: report each error with its location.
      const lines = (err.errors ?? []).map((e) => {
        const loc = e.location ? `${e.location.file}:${e.location.line}:${e.location.column + 1}: ` : '';
        return `${loc}${e.text}`;
      });
      const e = new Error(`browser build of ${b.entryPoints[0]} failed:\n${lines.join('\n') || err.message}`);
      e.isUserError = true;
      throw e;
    }
    for (const w of result.warnings) if (!quiet) console.warn(`warning: ${w.text}`);
    outputs.push({ file: b.outfile, bytes: statSync(join(root, b.outfile)).size });
  }
  if (!quiet) {
    for (const o of outputs) console.log(`${o.file}  ${(o.bytes / 1024).toFixed(0)} KiB`);
    console.log(`browser build done in ${Date.now() - t0} ms`);
  }
  return outputs;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    await buildBrowser({ minify: process.argv.includes('--minify') });
  } catch (err) {
    console.error(err.isUserError ? err.message : err);
    process.exit(1);
  }
}
