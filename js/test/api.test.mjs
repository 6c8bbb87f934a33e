// The package API on the real model: every source kind, options, abort, dispose,
// errors, the Worker entry point, and texts the golden corpus never had.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openAsBlob, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Embedder, GgufembedError, AbortError } from '../dist/node.js';
import { WorkerEmbedder } from '../dist/worker-client-node.js';
import { NATIVE_MIN, cosine, modelPath, nativeEmbeddings } from './helpers.mjs';

const MODEL = modelPath();
const SIZE = statSync(MODEL).size;
const FRESH = [
  'Photosynthesis converts light energy into chemical energy stored in glucose.',
  'Mi abuela prepara la mejor paella de todo el pueblo los domingos.',
  '量子コンピュータは重ね合わせを利用して計算を行う。',
];
const tmp = mkdtempSync(join(tmpdir(), 'ggufembed-test-'));
let server, base, ref;

before(async () => {
  ref = nativeEmbeddings(FRESH);
  server = createServer((req, res) => {
    // no keep-alive: a test that aborts a download leaves its socket to be reset, and
    // fetch reusing a pooled socket of that server then fails with ECONNRESET (seen as a
    // flaky "abort" test under load)
    res.setHeader('connection', 'close');
    if (req.url === '/model.gguf' || req.url === '/nolength.gguf') {
      const headers = { 'content-type': 'application/octet-stream' };
      if (req.url === '/model.gguf') headers['content-length'] = String(SIZE);
      res.writeHead(200, headers);
      createReadStream(MODEL).pipe(res);
    } else if (req.url === '/slow.gguf') {
      res.writeHead(200, { 'content-length': String(SIZE) });
      const s = createReadStream(MODEL, { highWaterMark: 1 << 20 });
      s.on('data', (c) => { s.pause(); res.write(c); setTimeout(() => s.resume(), 20); });
      s.on('end', () => res.end());
      res.on('close', () => s.destroy());
    } else {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => { server?.close(); server?.closeAllConnections?.(); rmSync(tmp, { recursive: true, force: true }); });

async function checkModel(e) {
  assert.equal(e.info.architecture, 'gemma-embedding');
  assert.equal(e.info.dimension, 768);
  const vs = await e.embed(FRESH);
  assert.equal(vs.length, FRESH.length);
  for (let i = 0; i < FRESH.length; i++) {
    assert.ok(vs[i] instanceof Float32Array);
    const c = cosine(vs[i], ref[i]);
    assert.ok(c >= NATIVE_MIN, `text ${i}: cosine vs native ${c}`);
  }
}

test('source: file path, with progress', async () => {
  const seen = [];
  const e = await Embedder.load(MODEL, { onProgress: (p) => seen.push(p) });
  try {
    await checkModel(e);
    assert.equal(e.info.fileSize, SIZE);
    assert.ok(seen.length >= 3);
    assert.deepEqual(seen.at(-1), { loaded: SIZE, total: SIZE });
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i].loaded >= seen[i - 1].loaded);
  } finally { e.dispose(); }
});

test('source: file: URL object and URL string', async () => {
  for (const src of [pathToFileURL(MODEL), pathToFileURL(MODEL).href]) {
    const e = await Embedder.load(src, { variant: 'simd' });
    try { assert.equal(e.info.fileSize, SIZE); } finally { e.dispose(); }
  }
});

test('source: http URL (fetch, streaming, progress with total), and without Content-Length', async () => {
  let last;
  const e = await Embedder.load(`${base}/model.gguf`, { variant: 'simd', onProgress: (p) => { last = p; } });
  try { await checkModel(e); assert.deepEqual(last, { loaded: SIZE, total: SIZE }); } finally { e.dispose(); }
  const e2 = await Embedder.load(new URL(`${base}/nolength.gguf`), { variant: 'simd', onProgress: (p) => { last = p; } });
  try { assert.equal(e2.info.fileSize, SIZE); assert.equal(last.total, undefined); } finally { e2.dispose(); }
});

test('source: Response, Blob, ArrayBuffer, Uint8Array', async () => {
  const srcs = [
    ['Response', await fetch(`${base}/model.gguf`)],
    ['Blob', await openAsBlob(MODEL)],
  ];
  for (const [name, src] of srcs) {
    const e = await Embedder.load(src, { variant: 'simd' });
    try { assert.equal(e.info.fileSize, SIZE, name); } finally { e.dispose(); }
  }
  const bytes = readFileSync(MODEL);
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  for (const src of [ab, new Uint8Array(ab)]) {
    const e = await Embedder.load(src, { variant: 'simd' });
    try { await checkModel(e); } finally { e.dispose(); }
  }
});

test('embed options: task, title, dimensions, normalize, truncate match the native CLI', async () => {
  const e = await Embedder.load(MODEL, { variant: 'simd' });
  try {
    const q = await e.embed(FRESH[0], { task: 'query' });
    assert.ok(cosine(q, nativeEmbeddings([FRESH[0]], ['--task', 'query'])[0]) >= NATIVE_MIN);
    const d = await e.embed(FRESH[0], { title: 'Biology' });
    assert.ok(cosine(d, nativeEmbeddings([FRESH[0]], ['--task', 'document', '--title', 'Biology'])[0]) >= NATIVE_MIN);
    const s = await e.embed(FRESH[0], { dimensions: 256 });
    assert.equal(s.length, 256);
    assert.ok(Math.abs(Math.hypot(...s) - 1) < 1e-4);
    const raw = await e.embed(FRESH[0], { normalize: false });
    assert.ok(Math.abs(Math.hypot(...raw) - 1) > 1e-3);
    const long = 'word '.repeat(5000);
    await assert.rejects(e.embed(long), (err) => err instanceof GgufembedError && err.code === 'TOO_LONG' && /\d/.test(err.message));
    const t = await e.embed(long, { truncate: true });
    assert.equal(t.length, 768);
    await assert.rejects(e.embed('x', { dimensions: 10000 }), (err) => err instanceof GgufembedError && err.code === 'INVALID_ARGUMENT');
    await assert.rejects(e.embed('x', { task: 'nope' }), (err) => err instanceof GgufembedError && /unknown task 'nope'/.test(err.message));
    // sentence-transformers prompt names resolve like the core's tasks
    assert.deepEqual(await e.embed(FRESH[0], { task: 'STS' }), await e.embed(FRESH[0], { task: 'sentence-similarity' }));
    assert.deepEqual(await e.embed(FRESH[0], { task: 'summarization' }), await e.embed(`task: summarization | query: ${FRESH[0]}`));
    // whitespace: stripped by default (sentence-transformers), kept on request (llama.cpp), as the CLI
    const padded = `  ${FRESH[0]}\n`;
    assert.deepEqual(await e.embed(padded), await e.embed(FRESH[0]));
    const kept = await e.embed(padded, { whitespace: 'keep' });
    assert.notDeepEqual(kept, await e.embed(FRESH[0]));
    assert.ok(cosine(kept, nativeEmbeddings([padded], ['--keep-whitespace'])[0]) >= NATIVE_MIN);
    await assert.rejects(e.embed('x', { whitespace: 'trim' }), (err) => err instanceof GgufembedError && /whitespace/.test(err.message));
    // the complete model: projections present, no warning
    assert.equal(e.info.hasDense, true);
    assert.equal(e.info.missingDense, false);
    assert.equal(e.info.warning, '');
    await assert.rejects(e.embed(42), GgufembedError);
    assert.deepEqual(await e.embed([]), []);
    const empty = await e.embed('');
    assert.equal(empty.length, 768);
    const ids = await e.tokenize('Hello world');
    assert.deepEqual(Array.from(ids), [2, 9259, 1902, 1]);
    assert.deepEqual(Array.from(await e.tokenize('Hello world', { addSpecial: false })), [9259, 1902]);
    // calls queue up and resolve in order
    const rs = await Promise.all(FRESH.map((t2) => e.embed(t2)));
    rs.forEach((v, i) => assert.ok(cosine(v, ref[i]) >= NATIVE_MIN));
  } finally { e.dispose(); }
});

test('abort: a load, before and during; a long batch', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(Embedder.load(MODEL, { signal: ac.signal }), AbortError);
  const ac2 = new AbortController();
  const p = Embedder.load(`${base}/slow.gguf`, { variant: 'simd', signal: ac2.signal, onProgress: (x) => { if (x.loaded > 20e6) ac2.abort(); } });
  await assert.rejects(p, (err) => err instanceof AbortError && err instanceof GgufembedError && err.name === 'AbortError');
  const e = await Embedder.load(MODEL, { variant: 'simd' });
  try {
    const ac3 = new AbortController();
    const texts = Array.from({ length: 200 }, (_, i) => `sentence ${i} for a long batch`);
    const batch = e.embed(texts, { signal: ac3.signal });
    setTimeout(() => ac3.abort(), 50);
    await assert.rejects(batch, AbortError);
    assert.equal((await e.embed('still works')).length, 768);
  } finally { e.dispose(); }
});

test('dispose: frees, later calls reject, double dispose is fine, pending batch stops', async () => {
  const e = await Embedder.load(MODEL, { variant: 'simd' });
  const batch = e.embed(Array.from({ length: 100 }, (_, i) => `text ${i}`));
  setTimeout(() => e.dispose(), 30);
  await assert.rejects(batch, GgufembedError);
  assert.equal(e.disposed, true);
  await assert.rejects(e.embed('x'), /disposed/);
  await assert.rejects(e.tokenize('x'), /disposed/);
  e.dispose();
});

test('errors: wrong file, truncated file, missing file, HTTP 404, bad source, bad threads', async () => {
  const notGguf = join(tmp, 'not.gguf');
  writeFileSync(notGguf, 'this is not a model at all, just some text\n'.repeat(100));
  await assert.rejects(Embedder.load(notGguf), (err) => err instanceof GgufembedError && err.code === 'FORMAT' && err.message.length > 5);
  const head = readFileSync(MODEL).subarray(0, 50 << 20);
  for (const cut of [10, 1000, 100000, head.length]) {
    const f = join(tmp, `trunc-${cut}.gguf`);
    writeFileSync(f, head.subarray(0, cut));
    await assert.rejects(Embedder.load(f, { variant: 'simd' }), (err) => {
      assert.ok(err instanceof GgufembedError, String(err));
      assert.equal(err.code, 'FORMAT', `${cut}: ${err.message}`);
      return true;
    });
  }
  await assert.rejects(Embedder.load(new Uint8Array(0)), (err) => err instanceof GgufembedError && err.code === 'FORMAT');
  await assert.rejects(Embedder.load(join(tmp, 'missing.gguf')), (err) => err instanceof GgufembedError && err.code === 'IO' && /missing\.gguf/.test(err.message));
  await assert.rejects(Embedder.load(`${base}/nothing.gguf`), (err) => err instanceof GgufembedError && err.code === 'IO' && /404/.test(err.message));
  await assert.rejects(Embedder.load(12345), (err) => err instanceof GgufembedError && err.code === 'INVALID_ARGUMENT');
  await assert.rejects(Embedder.load(MODEL, { threads: 0 }), GgufembedError);
  await assert.rejects(Embedder.load(MODEL, { variant: 'bogus' }), GgufembedError);
});

test('threads variant agrees with single-threaded and is the default in Node', async () => {
  const e = await Embedder.load(MODEL, { threads: 2 });
  try {
    assert.equal(e.info.variant, 'threads');
    assert.equal(e.info.threads, 2);
    await checkModel(e);
  } finally { e.dispose(); }
});

test('Worker entry point: WorkerEmbedder embeds off the main thread, abort and dispose', async () => {
  const w = await WorkerEmbedder.load(MODEL, { variant: 'simd' });
  try {
    assert.equal(w.info.dimension, 768);
    const vs = await w.embed(FRESH);
    vs.forEach((v, i) => assert.ok(cosine(v, ref[i]) >= NATIVE_MIN));
    assert.deepEqual(Array.from(await w.tokenize('Hello world')), [2, 9259, 1902, 1]);
    await assert.rejects(w.embed('x', { dimensions: -3 }), GgufembedError);
    const ac = new AbortController();
    const batch = w.embed(Array.from({ length: 200 }, (_, i) => `worker sentence ${i}`), { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(batch, AbortError);
  } finally { w.dispose(); }
  await assert.rejects(w.embed('x'), /disposed/);
  const bad = join(tmp, 'bad.gguf');
  writeFileSync(bad, 'GGUF garbage');
  await assert.rejects(WorkerEmbedder.load(bad), (err) => err instanceof GgufembedError && ['FORMAT', 'UNSUPPORTED'].includes(err.code) && /GGUF/.test(err.message));
});
