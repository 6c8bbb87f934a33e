// Failure paths and their clean-up (issue #11): a load that fails or is aborted part-way
// leaves no wasm instance, thread, worker or file handle behind (each scenario runs in a
// child process, test/lifecycle-run.mjs, which counts them and must exit by itself);
// every failure is a GgufembedError; out of memory is a clean error after which the same
// instance (or a new one) works; the C constants JS uses are the header's.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Embedder, GgufembedError } from '../dist/node.js';
import { WorkerEmbedder } from '../dist/worker-client-node.js';
import { USED_CONSTANTS } from '../dist/backend.js';
import { JS, ROOT, fetchedModel, modelPath } from './helpers.mjs';
import { parseGguf } from './gguf-edit.mjs';

const MODEL = modelPath();
const INTERNALS = Symbol.for('ggufembed.internals');
const tmp = mkdtempSync(join(tmpdir(), 'ggufembed-lifecycle-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

// Runs one scenario; the child must end on its own within the timeout (a leaked ref'd
// handle would keep it alive) and report what it left behind.
function runScenario(scenario, dist = '') {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(JS, 'test', 'lifecycle-run.mjs'), scenario, MODEL, tmp, dist],
      { timeout: 120000, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
        if (err) { reject(new Error(`${scenario}: ${err.killed ? 'did not exit by itself' : err.message}\n${stderr}`)); return; }
        resolve(JSON.parse(stdout.trim().split('\n').at(-1)));
      });
  });
}

function assertNothingLeft(r, what) {
  assert.ok(r.after.threads <= r.baseline.threads, `${what}: ${r.after.threads} threads left, ${r.baseline.threads} before`);
  assert.deepEqual(r.after.fds, [], `${what}: model files still open`);
  const extra = r.after.resources.filter((x) => x !== 'PipeWrap'); // the pipes to this process
  assert.deepEqual(extra, [], `${what}: active resources`);
}

const isError = (e, code, re) => e.isGgufembedError && e.code === code && (!re || re.test(e.message));

for (const variant of ['simd', 'threads']) {
  test(`load (${variant}): a source that fails half-way releases the instance, its threads and the source`, async () => {
    const r = await runScenario(`source-fails-midway-${variant}`);
    assert.equal(r.errors.length, 1);
    assert.ok(isError(r.errors[0], 'IO', /connection reset/), JSON.stringify(r.errors[0]));
    assertNothingLeft(r, 'source failed');
  });

  test(`load (${variant}): a source that cannot be opened releases the instance that started meanwhile`, async () => {
    const r = await runScenario(`source-open-fails-${variant}`);
    assert.equal(r.errors.length, 2);
    assert.ok(isError(r.errors[0], 'IO', /missing\.gguf/), JSON.stringify(r.errors[0]));
    assert.ok(isError(r.errors[1], 'INVALID_ARGUMENT', /unsupported model source/), JSON.stringify(r.errors[1]));
    assertNothingLeft(r, 'source not opened');
  });

  test(`load (${variant}): aborted while reading and while starting: AbortError, nothing left`, async () => {
    const r = await runScenario(`abort-mid-load-${variant}`);
    assert.equal(r.errors.length, 2);
    for (const e of r.errors) assert.ok(e.name === 'AbortError' && e.code === 'ABORTED' && e.isGgufembedError === 'AbortError', JSON.stringify(e));
    assert.equal(r.errors[1].message, 'stopped by the test');
    assertNothingLeft(r, 'aborted');
  });

  test(`load (${variant}): a model too big for wasm memory is OUT_OF_MEMORY, and the real model loads after it`, async () => {
    const r = await runScenario(`oom-load-${variant}`);
    assert.ok(isError(r.errors[0], 'OUT_OF_MEMORY', /does not fit/), JSON.stringify(r.errors[0]));
    assert.ok(isError(r.errors[1], 'OUT_OF_MEMORY', /could not allocate/), JSON.stringify(r.errors[1]));
    assert.equal(r.errors[1].status, 3);
    assert.deepEqual(r.errors[2], { afterOom: 768 });
    assertNothingLeft(r, 'out of memory');
  });
}

test('load: a broken or missing .wasm file is a GgufembedError (IO), and the model file is closed', async () => {
  const dist = join(tmp, 'dist');
  cpSync(join(JS, 'dist'), dist, { recursive: true });
  truncateSync(join(dist, 'wasm', 'ggufembed-st.wasm'), 1000);
  rmSync(join(dist, 'wasm', 'node', 'ggufembed-mt.wasm'));
  const simd = await runScenario('bad-wasm-simd', dist);
  assert.equal(simd.errors.length, 2);
  for (const e of simd.errors) assert.ok(isError(e, 'IO', /cannot compile the WebAssembly module .*ggufembed-st\.wasm/), JSON.stringify(e));
  assertNothingLeft(simd, 'broken simd wasm');
  const threads = await runScenario('bad-wasm-threads', dist);
  for (const e of threads.errors) assert.ok(isError(e, 'IO', /cannot read the WebAssembly module .*ggufembed-mt\.wasm/), JSON.stringify(e));
  assertNothingLeft(threads, 'missing threads wasm');
});

test('WorkerEmbedder: dispose rejects pending calls, frees the worker side and terminates it', async () => {
  const r = await runScenario('worker-dispose');
  assert.deepEqual(r.errors[0], { disposedFlag: true });
  for (const e of r.errors.slice(1)) assert.ok(isError(e, 'INVALID_ARGUMENT', /disposed/), JSON.stringify(e));
  assert.equal(r.errors.length, 4);
  assertNothingLeft(r, 'worker disposed');
});

test('WorkerEmbedder: a failed or aborted load terminates its worker (and the threads in it)', async () => {
  const r = await runScenario('worker-load-fails');
  assert.ok(isError(r.errors[0], 'IO', /missing\.gguf/), JSON.stringify(r.errors[0]));
  assert.equal(r.errors[1].name, 'AbortError');
  assertNothingLeft(r, 'worker load failed');
});

test('WorkerEmbedder: disposed property, dispose() resolves, a Response source is refused cleanly', async () => {
  const w = await WorkerEmbedder.load(MODEL, { variant: 'simd' });
  assert.equal(w.disposed, false);
  assert.equal((await w.embed('hello')).length, 768);
  const p = w.dispose();
  assert.equal(w.disposed, true);
  assert.ok(p instanceof Promise);
  await p;
  assert.equal(w.dispose(), p, 'a second dispose() is the same');
  await assert.rejects(w.tokenize('x'), (e) => e instanceof GgufembedError && /disposed/.test(e.message));
  // a Response cannot be sent to a worker: a GgufembedError, not a DataCloneError
  await assert.rejects(WorkerEmbedder.load(new Response(new Uint8Array(8))),
    (e) => e instanceof GgufembedError && e.code === 'INVALID_ARGUMENT' && /worker/.test(e.message));
});

// Every allocation of a call failing in turn (the core's fault injection, through
// ge_js_fail_alloc_after): each failure is OUT_OF_MEMORY, and the same instance then gives
// exactly what a clean one gives. A fresh Embedder for each n, so that the failing call is
// its first and also grows the context's buffers (all-MiniLM: small and quick to load).
for (const variant of ['simd', 'threads']) {
  test(`out of memory inside calls (${variant}): a clean OUT_OF_MEMORY, the instance keeps working`, async () => {
    const model = fetchedModel('all-minilm-l6-v2-Q8_0.gguf');
    const texts = ['A short one.', 'Another sentence, somewhat longer than the first one was.', 'word '.repeat(300)];
    const ref = await Embedder.load(model, { variant, threads: 2 });
    const want = { embed: await ref.embed(texts), tokenize: await ref.tokenize(texts[1]) };
    ref.dispose();
    for (const [name, call] of [['embed', (e) => e.embed(texts)], ['tokenize', (e) => e.tokenize(texts[1])]]) {
      let failures = 0;
      for (let n = 1; n < 1000; n++) {
        const e = await Embedder.load(model, { variant, threads: 2 });
        try {
          const hooks = e[INTERNALS]();
          hooks.failAllocAfter(n);
          let ok = false;
          try {
            await call(e);
            ok = true;
          } catch (err) {
            assert.ok(err instanceof GgufembedError, `${name}, allocation ${n}: ${err}`);
            assert.equal(err.code, 'OUT_OF_MEMORY', `${name}, allocation ${n}: ${err.message}`);
            failures++;
          } finally {
            hooks.failAllocAfter(0);
          }
          assert.deepEqual(await call(e), want[name], `${name} after allocation ${n} failed`);
          if (ok) break;
        } finally { e.dispose(); }
      }
      assert.ok(failures >= 2, `${name}: only ${failures} allocations were failed`);
      console.log(`# ${variant} ${name}: ${failures} allocations failed in turn, each a clean OUT_OF_MEMORY, each recovered`);
    }
  });
}

test('validate: a NaN weight is refused at load (FORMAT, naming the tensor), only with the option', async () => {
  const model = fetchedModel('all-minilm-l6-v2-Q8_0.gguf');
  const e = await Embedder.load(model, { variant: 'simd', validate: true });
  e.dispose();
  const buf = readFileSync(model);
  const g = parseGguf(buf);
  const t = g.tensors.find((x) => x.type === 0); // an F32 tensor (a norm's weight)
  buf.writeFloatLE(NaN, g.dataStart + t.offset);
  const bad = join(tmp, 'nan.gguf');
  writeFileSync(bad, buf);
  await assert.rejects(Embedder.load(bad, { variant: 'simd', validate: true }),
    (err) => err instanceof GgufembedError && err.code === 'FORMAT' && err.message.includes(t.name));
  (await Embedder.load(bad, { variant: 'simd' })).dispose(); // the option is what refused it
});

test('a huge text: OUT_OF_MEMORY from wasm memory, then the same Embedder works', async () => {
  const e = await Embedder.load(MODEL, { variant: 'simd' });
  try {
    // 840 MB of UTF-8: tokenize's text + id buffer (5x) fit a 32-bit size, but not next to the model
    const big = '€'.repeat(280e6);
    await assert.rejects(e.tokenize(big), (err) => err instanceof GgufembedError && err.code === 'OUT_OF_MEMORY');
    assert.deepEqual(Array.from(await e.tokenize('Hello world')), [2, 9259, 1902, 1]);
    assert.equal((await e.embed('still works')).length, 768);
  } finally { e.dispose(); }
});

// ggufembed.h's constants, parsed from the header: enums (implicit values counted) and
// #defines, grouped by prefix as exports.c groups them.
function headerConstants() {
  const h = readFileSync(join(ROOT, 'core', 'ggufembed.h'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const group = (id) => {
    if (id === 'OK') return ['status', 'OK'];
    const m = /^(ERR|TASK|TOKENIZE|OPEN|TRUNCATE|WHITESPACE)_(\w+)$/.exec(id);
    if (!m) return null;
    return [{ ERR: 'status', TASK: 'task', TOKENIZE: 'tokenize', OPEN: 'open', TRUNCATE: 'truncate', WHITESPACE: 'whitespace' }[m[1]], m[2]];
  };
  const out = {};
  const values = {};
  const put = (id, v) => {
    values[id] = v;
    const g = group(id);
    if (g) (out[g[0]] ??= {})[g[1]] = v;
  };
  for (const m of h.matchAll(/typedef enum \w+ \{([^}]*)\}/g)) {
    let next = 0;
    for (const item of m[1].split(',').map((x) => x.trim()).filter(Boolean)) {
      const [, id, v] = /^GGUFEMBED_(\w+)(?:\s*=\s*(\d+))?$/.exec(item);
      const val = v !== undefined ? Number(v) : next;
      put(id, val);
      next = val + 1;
    }
  }
  for (const m of h.matchAll(/^#define GGUFEMBED_(\w+)[ \t]+(.+)$/gm)) {
    if (!group(m[1])) continue;
    // e.g. 1u, or (GGUFEMBED_TOKENIZE_ADD_SPECIAL | GGUFEMBED_TOKENIZE_PARSE_SPECIAL)
    const expr = m[2].trim().replace(/GGUFEMBED_(\w+)/g, (_, id) => String(values[id])).replace(/(\d+)u\b/g, '$1');
    assert.match(expr, /^[\d\s|()]+$/, `cannot evaluate #define GGUFEMBED_${m[1]} ${m[2]}`);
    put(m[1], Function(`return ${expr}`)());
  }
  return out;
}

test('constants: the wasm modules report exactly ggufembed.h\'s values, and JS uses only names the header has', async () => {
  const header = headerConstants();
  assert.equal(header.status.OUT_OF_MEMORY, 3); // the parser found the enums at all
  assert.ok(Object.keys(header.task).length >= 10 && header.tokenize.ADD_SPECIAL === 1);
  for (const variant of ['simd', 'threads']) {
    const e = await Embedder.load(MODEL, { variant, threads: 2 });
    try { assert.deepEqual(e[INTERNALS]().constants, header, variant); } finally { e.dispose(); }
  }
  // relaxed runs only with V8's flag: in a child process
  const relaxed = JSON.parse(execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', `
    const { Embedder } = await import(${JSON.stringify(join(JS, 'dist', 'node.js'))});
    const e = await Embedder.load(${JSON.stringify(MODEL)}, { variant: 'relaxed' });
    console.log(JSON.stringify(e[Symbol.for('ggufembed.internals')]().constants));
    e.dispose();`], { encoding: 'utf8' }).trim().split('\n').at(-1));
  assert.deepEqual(relaxed, header, 'relaxed');
  for (const [g, names] of Object.entries(USED_CONSTANTS)) {
    for (const n of names) assert.ok(Number.isInteger(header[g]?.[n]), `JS uses ${g}.${n}, which ggufembed.h does not define`);
  }
  // the ErrorCode type names the core's statuses (OK aside) plus JavaScript's ABORTED
  const dts = readFileSync(join(JS, 'src', 'index.d.ts'), 'utf8');
  const codes = [.../export type ErrorCode =([^;]*);/.exec(dts)[1].matchAll(/'(\w+)'/g)].map((m) => m[1]).sort();
  assert.deepEqual(codes, [...Object.keys(header.status).filter((k) => k !== 'OK'), 'ABORTED'].sort());
  // a status number read from the module, for an error made in JS
  assert.equal(new GgufembedError('x', { code: 'TOO_LONG' }).status, header.status.TOO_LONG);
});
