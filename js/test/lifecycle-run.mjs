// One failure scenario of test/lifecycle.test.mjs, in a process of its own so that what
// it leaves behind can be counted: node test/lifecycle-run.mjs SCENARIO MODEL TMPDIR [DIST].
// Prints one JSON line { errors: [...], after: {...}, baseline: {...} } and then returns
// without process.exit: the parent also checks that the process ends by itself.
//
// "Left behind" is read from the OS and Node: the process's threads (each wasm pthread
// and each worker_threads Worker is one; Emscripten's pool is unref'd, so it would not
// keep the process alive, which is why it is counted), its open descriptors on the model
// files, and process.getActiveResourcesInfo().
import { closeSync, ftruncateSync, openSync, readFileSync, readSync, readdirSync, readlinkSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [scenario, MODEL, TMP, distArg] = process.argv.slice(2);
const DIST = distArg || new URL('../dist/', import.meta.url).pathname;
const { Embedder } = await import(pathToFileURL(join(DIST, 'node.js')).href);
const { WorkerEmbedder } = await import(pathToFileURL(join(DIST, 'worker-client-node.js')).href);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const threads = () => Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
function modelFds() {
  const out = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    let t;
    try { t = readlinkSync(`/proc/self/fd/${fd}`); } catch { continue; }
    if (t.endsWith('.gguf')) out.push(t);
  }
  return out;
}
const resources = () => process.getActiveResourcesInfo().filter((r) => r !== 'Timeout' && r !== 'TTYWrap');
const snapshot = () => ({ threads: threads(), fds: modelFds(), resources: resources() });
// Threads end asynchronously after terminate(): wait (bounded, 10 s) until the count is
// at most `limit` and has stopped falling.
async function settle(limit = 0) {
  let prev = Infinity;
  for (let i = 0; i < 50; i++) {
    const n = threads();
    if (n <= limit || (limit === 0 && n === prev)) break;
    prev = n;
    await sleep(200);
  }
  await sleep(200);
  return snapshot();
}

const errors = [];
async function expectFailure(p) {
  try {
    const r = await p;
    errors.push({ resolved: true });
    r?.dispose?.();
  } catch (e) {
    errors.push({ name: e?.name, code: e?.code, status: e?.status, message: String(e?.message), isGgufembedError: e?.constructor?.name });
  }
}

// A Response whose body gives `bytes` of the model and then fails, as a dropped download.
const SIZE = statSync(MODEL).size;
function failingResponse(bytes) {
  const fd = openSync(MODEL, 'r');
  let pos = 0;
  const body = new ReadableStream({
    pull(c) {
      if (pos >= bytes) { closeSync(fd); c.error(new Error('connection reset (test)')); return; }
      const chunk = new Uint8Array(4 << 20);
      const n = readSync(fd, chunk, 0, chunk.length, pos);
      pos += n;
      c.enqueue(chunk.subarray(0, n));
    },
  });
  return new Response(body, { headers: { 'content-length': String(SIZE) } });
}

function sparseFile(path, size) {
  const fd = openSync(path, 'w');
  writeSync(fd, Buffer.from('GGUF'));
  ftruncateSync(fd, size);
  closeSync(fd);
  return path;
}

// Warm-up: one good load and dispose in the scenario's variant, so that threads Node and
// V8 start once and keep (libuv's pool, compiler threads) are in the baseline.
// (With the package's own dist/: DIST may be a copy the parent broke.)
const variant = scenario.includes('threads') ? 'threads' : 'simd';
{
  const { Embedder: Good } = await import(new URL('../dist/node.js', import.meta.url).href);
  const e = await Good.load(MODEL, { variant, threads: 2 });
  e.dispose();
}
const baseline = await settle();

if (scenario.startsWith('source-fails-midway')) {
  await expectFailure(Embedder.load(failingResponse(24 << 20), { variant, threads: 2 }));
} else if (scenario.startsWith('source-open-fails')) {
  // the source fails at once while the wasm instance (and its pool) is still starting
  await expectFailure(Embedder.load(join(TMP, 'missing.gguf'), { variant, threads: 2 }));
  await expectFailure(Embedder.load({ not: 'a source' }, { variant, threads: 2 }));
} else if (scenario.startsWith('bad-wasm')) {
  // DIST is a copy whose .wasm files the parent broke: the file handle must be closed
  await expectFailure(Embedder.load(MODEL, { variant, threads: 2 }));
  await expectFailure(Embedder.load(pathToFileURL(MODEL), { variant, threads: 2 }));
} else if (scenario.startsWith('abort-mid-load')) {
  const ac = new AbortController();
  await expectFailure(Embedder.load(MODEL, { variant, threads: 2, signal: ac.signal, onProgress: (p) => { if (p.loaded > 20e6) ac.abort(); } }));
  const ac2 = new AbortController();
  const p = Embedder.load(MODEL, { variant, threads: 2, signal: ac2.signal });
  ac2.abort(new Error('stopped by the test')); // while the wasm instance and the file are being opened
  await expectFailure(p);
} else if (scenario.startsWith('oom-load')) {
  // bigger than wasm32 can hold (the JS check), and just under 4 GiB (the wasm allocator
  // fails): sparse files, nothing is read; then the real model still loads and embeds
  await expectFailure(Embedder.load(sparseFile(join(TMP, 'huge-5g.gguf'), 5 * 2 ** 30), { variant, threads: 2 }));
  await expectFailure(Embedder.load(sparseFile(join(TMP, 'huge-4g.gguf'), 4092 * 2 ** 20), { variant, threads: 2 }));
  const e = await Embedder.load(MODEL, { variant, threads: 2 });
  errors.push({ afterOom: (await e.embed('still works')).length });
  e.dispose();
} else if (scenario === 'worker-dispose') {
  const w = await WorkerEmbedder.load(MODEL, { variant: 'simd' });
  const batch = w.embed(Array.from({ length: 200 }, (_, i) => `pending sentence ${i}`));
  const tok = w.tokenize('queued behind the batch');
  await sleep(100);
  const gone = w.dispose();
  errors.push({ disposedFlag: w.disposed });
  await expectFailure(batch);
  await expectFailure(tok);
  await gone;
  await expectFailure(w.embed('after dispose'));
} else if (scenario === 'worker-load-fails') {
  await expectFailure(WorkerEmbedder.load(join(TMP, 'missing.gguf')));
  const ac = new AbortController();
  await expectFailure(WorkerEmbedder.load(MODEL, { variant: 'threads', threads: 2, signal: ac.signal, onProgress: (p) => { if (p.loaded > 20e6) ac.abort(); } }));
} else {
  throw new Error(`unknown scenario ${scenario}`);
}

const after = await settle(baseline.threads);
console.log(JSON.stringify({ errors, baseline, after }));
