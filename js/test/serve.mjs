// A static file server for the browser tests and for trying the example page:
//   node test/serve.mjs [--isolated] [--port N]   serves js/ (and the model as /examples/<name>.gguf)
// With isolated, every response carries COOP/COEP so the page is cross-origin isolated (threads).
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, resolve, basename } from 'node:path';
import { JS, modelPath } from './helpers.mjs';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.json': 'application/json', '.gguf': 'application/octet-stream' };

export function startServer({ isolated = false, port = 0, root = JS } = {}) {
  const model = modelPath();
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    let file;
    if (url.pathname.endsWith('.gguf') && basename(url.pathname) === basename(model)) file = model;
    else file = join(root, normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, ''));
    let st;
    try { st = statSync(file); } catch { st = null; }
    if (!st || !st.isFile() || !resolve(file).startsWith(resolve(root)) && file !== model) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const headers = { 'content-type': TYPES[extname(file)] || 'application/octet-stream', 'content-length': st.size,
      'cache-control': 'no-store' };
    if (isolated) {
      headers['cross-origin-opener-policy'] = 'same-origin';
      headers['cross-origin-embedder-policy'] = 'require-corp';
      headers['cross-origin-resource-policy'] = 'same-origin';
    }
    res.writeHead(200, headers);
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  });
  return new Promise((r) => server.listen(port, '127.0.0.1', () => r(server)));
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const isolated = process.argv.includes('--isolated');
  const pi = process.argv.indexOf('--port');
  const s = await startServer({ isolated, port: pi > 0 ? Number(process.argv[pi + 1]) : 8080 });
  console.log(`http://127.0.0.1:${s.address().port}/examples/index.html${isolated ? ' (cross-origin isolated)' : ''}`);
}
