// Headless Debian Chromium (playwright-core, executablePath /usr/bin/chromium): the
// example page served on 127.0.0.1 loads the real model with fetch and embeds; the
// (playwright gives the browser a fresh temporary profile itself)
// package's vectors are checked against llama.cpp's golden data and the native build,
// once without and once with cross-origin isolation (threads).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../serve.mjs';
import { NATIVE_MEAN, NATIVE_MIN, corpus, cosine, golden, llamaRule, modelPath, nativeEmbeddings, stats } from '../helpers.mjs';

const STRIDE = Number(process.env.GGUFEMBED_BROWSER_STRIDE || 23);
const texts = corpus().map((c) => c.text);
const idx = texts.map((_, i) => i).filter((i) => i % STRIDE === 0);
const ref = golden();
// compared with llama.cpp, which embeds the bytes as given: whitespace 'keep'
const nativeSel = nativeEmbeddings(idx.map((i) => texts[i]), ['--keep-whitespace']);
const native = new Map(idx.map((i, k) => [i, nativeSel[k]]));
const MODEL_NAME = basename(modelPath());
let browser, userDir;

before(async () => {
  userDir = mkdtempSync(join(tmpdir(), 'ggufembed-chromium-'));
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});
after(async () => { await browser?.close(); rmSync(userDir, { recursive: true, force: true }); });

for (const isolated of [false, true]) {
  test(`Chromium ${isolated ? 'cross-origin isolated (threads)' : 'not isolated (single thread)'}: example page + golden agreement`, async () => {
    const server = await startServer({ isolated });
    const base = `http://127.0.0.1:${server.address().port}`;
    const page = await browser.newPage();
    const logs = [];
    page.on('console', (m) => logs.push(m.text()));
    page.on('pageerror', (e) => logs.push(String(e)));
    try {
      // 1. the example page: progress bar, worker, similarity matrix
      await page.goto(`${base}/examples/index.html?model=${MODEL_NAME}&autoload&autocompare`);
      await page.waitForFunction(() => ['compared', 'error'].includes(document.body.dataset.state), null, { timeout: 300000 });
      const state = await page.evaluate(() => ({
        s: document.body.dataset.state, status: document.getElementById('status').textContent,
        cells: [...document.querySelectorAll('#matrix td')].map((td) => Number(td.textContent)),
        progress: document.getElementById('progress').value, coi: crossOriginIsolated,
      }));
      assert.equal(state.s, 'compared', state.status + '\n' + logs.join('\n'));
      assert.equal(state.coi, isolated);
      assert.equal(state.progress, 1);
      assert.equal(state.cells.length, 16);
      for (let i = 0; i < 4; i++) assert.ok(Math.abs(state.cells[i * 5] - 1) < 1e-3);
      assert.ok(state.cells[1] > state.cells[2], 'the two fox sentences are closer than fox vs stocks');
      assert.match(state.status, isolated ? /threads, wasm-simd128, [2-9] threads/ : /(simd|relaxed), wasm-(simd128|relaxed-simd), 1 thread/);
      console.log(`# page: ${state.status}`);

      // 2. the package API in the page, on golden texts
      const out = await page.evaluate(async ({ model, sub, variant }) => {
        const { Embedder } = await import('/dist/browser.js');
        const t0 = performance.now();
        const e = await Embedder.load(model, variant ? { variant } : {});
        const t1 = performance.now();
        const vs = await e.embed(sub, { whitespace: 'keep' });
        const t2 = performance.now();
        const toks = [];
        for (const s of sub) toks.push(Array.from(await e.tokenize(s)));
        const info = e.info;
        // out of wasm memory in a call (the core's fault injection): a clean error, then the
        // same instance gives the same vector
        const hooks = e[Symbol.for('ggufembed.internals')]();
        const before = Array.from(await e.embed(sub[0], { whitespace: 'keep' }));
        // allocation n failing, for n = 1, 2, ... until the call needs fewer than n
        const oom = [];
        for (let n = 1; n < 1000 && oom.at(-1) !== 'resolved'; n++) {
          hooks.failAllocAfter(n);
          try { await e.embed(sub.slice(0, 3), { whitespace: 'keep' }); oom.push('resolved'); } catch (err) { oom.push(`${err.name}:${err.code}`); }
          hooks.failAllocAfter(0);
        }
        // a text longer than any before makes the core's tokenizer grow its buffers: its own
        // allocations fail too (embed's, after the batch above, are only the JS buffer's)
        const longText = sub.join(' ');
        const oomTok = [];
        let firstToks;
        for (let n = 1; n < 1000 && oomTok.at(-1) !== 'resolved'; n++) {
          hooks.failAllocAfter(n);
          try { firstToks = Array.from(await e.tokenize(longText)); oomTok.push('resolved'); } catch (err) { oomTok.push(`${err.name}:${err.code}`); }
          hooks.failAllocAfter(0);
        }
        // the same ids again, BOS and EOS as for the single texts, longer than the longest of them
        const gotToks = Array.from(await e.tokenize(longText));
        const sameToks = JSON.stringify(gotToks) === JSON.stringify(firstToks) && gotToks[0] === toks[0][0] &&
          gotToks.at(-1) === toks[0].at(-1) && gotToks.length > Math.max(...toks.map((t) => t.length));
        const afterOom = Array.from(await e.embed(sub[0], { whitespace: 'keep' }));
        e.dispose();
        // a model larger than wasm memory, announced by its Content-Length
        let tooBig;
        try {
          await Embedder.load(new Response(new ReadableStream({ pull(c) { c.enqueue(new Uint8Array(1 << 20)); } }), { headers: { 'content-length': String(5 * 2 ** 30) } }));
          tooBig = 'resolved';
        } catch (err) { tooBig = `${err.name}:${err.code}`; }
        return { vs: vs.map((v) => Array.from(v)), toks, info, loadMs: t1 - t0, embedMs: t2 - t1, oom, oomTok, sameToks, tooBig,
          sameAfterOom: JSON.stringify(before) === JSON.stringify(afterOom),
          mem: performance.memory ? performance.memory.usedJSHeapSize : null };
      }, { model: `/${MODEL_NAME}`, sub: idx.map((i) => texts[i]), variant: null });
      const vsL = [], vsN = [];
      idx.forEach((i, k) => {
        assert.deepEqual(out.toks[k], ref.tokens[i].tokens, `tokens of ${ref.tokens[i].id}`);
        vsL.push(cosine(out.vs[k], ref.vector(i)));
        vsN.push(cosine(out.vs[k], native.get(i)));
      });
      const l = stats(vsL), n = stats(vsN);
      console.log(`# browser ${out.info.variant}/${out.info.kernels}/${out.info.threads}t, ${idx.length} texts: vs llama.cpp min ${l.min.toFixed(6)} mean ${l.mean.toFixed(6)}; vs native min ${n.min.toFixed(6)} mean ${n.mean.toFixed(6)}; load ${out.loadMs.toFixed(0)} ms, embed ${out.embedMs.toFixed(0)} ms`);
      assert.equal(out.info.variant === 'threads', isolated);
      // out of wasm memory: every failing allocation a clean OUT_OF_MEMORY, then the same results
      for (const [what, seq, min] of [['embed', out.oom, 1], ['tokenize', out.oomTok, 2]]) {
        assert.ok(seq.length > min && seq.at(-1) === 'resolved', `${what}: ${seq.join()}`);
        assert.deepEqual(new Set(seq.slice(0, -1)), new Set(['GgufembedError:OUT_OF_MEMORY']), `${what}: ${seq.join()}`);
        console.log(`# browser ${out.info.variant}: ${seq.length - 1} allocations of a ${what} call failed in turn, each OUT_OF_MEMORY`);
      }
      assert.equal(out.sameToks, true, 'tokenize after running out of memory');
      assert.equal(out.sameAfterOom, true, 'the instance works after running out of memory');
      assert.equal(out.tooBig, 'GgufembedError:OUT_OF_MEMORY');
      // llama.cpp's rule per text (helpers.llamaRule); the mean over the whole corpus is the native test's
      const misses = idx.map((i, k) => [i, llamaRule(ref, i, out.vs[k], native.get(i))]).filter(([, x]) => !x.ok || x.byNative);
      for (const [i, x] of misses) console.log(`#   text ${i}: vs llama.cpp ${x.on.toFixed(6)} / ${x.off.toFixed(6)} (its own spread ${x.r.toFixed(6)})${x.byNative ? ': the native vector, decided by the native golden test' : ''}`);
      assert.equal(misses.filter(([, x]) => !x.ok).length, 0, `texts outside llama.cpp's rule: ${misses.filter(([, x]) => !x.ok).map(([i]) => i)}`);
      assert.ok(n.min >= NATIVE_MIN, `min cosine vs native ${n.min}`);
      assert.ok(n.mean >= NATIVE_MEAN, `mean cosine vs native ${n.mean}`);
    } finally {
      await page.close();
      server.close();
      server.closeAllConnections?.();
    }
  });
}

test('Chromium: relaxed-SIMD and simd128 kernel and quant-type tests (WASI shim in the page)', async () => {
  const server = await startServer();
  const base = `http://127.0.0.1:${server.address().port}`;
  const page = await browser.newPage();
  const runs = ['test_kernels', 'test_quant'].flatMap((t) => ['simd128', 'relaxed'].map((v) => `${t}-${v}`));
  try {
    await page.goto(`${base}/examples/index.html`);
    const r = await page.evaluate(async (runs) => {
      const shim = await import('/node_modules/@bjorn3/browser_wasi_shim/dist/index.js');
      const res = {};
      for (const name of runs) {
        let out = '';
        const dec = new TextDecoder();
        const fds = [new shim.OpenFile(new shim.File([])),
          new shim.ConsoleStdout((b) => { out += dec.decode(b); }), new shim.ConsoleStdout((b) => { out += dec.decode(b); })];
        const wasi = new shim.WASI([name.split('-')[0]], [], fds);
        const bytes = await (await fetch(`/test/.cache/${name}.wasm`)).arrayBuffer();
        const { instance } = await WebAssembly.instantiate(bytes, { wasi_snapshot_preview1: wasi.wasiImport });
        let code;
        try { code = wasi.start(instance); } catch (e) { code = e.code ?? String(e); }
        res[name] = { code, out };
      }
      return res;
    }, runs);
    for (const name of runs) {
      assert.equal(r[name].code, 0, `${name}: ${r[name].out}`);
      assert.match(r[name].out, / [1-9]\d* passed, 0 failed/, name);
      assert.match(r[name].out, name.endsWith('relaxed') ? /scalar wasm-simd128 wasm-relaxed-simd\n/ : /scalar wasm-simd128\n/, name);
    }
  } finally {
    await page.close();
    server.close();
    server.closeAllConnections?.();
  }
});
