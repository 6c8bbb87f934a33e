// bench/browser/page.js - the in-page half of bench/bench_wasm_browser.mjs.
// The driver serves (cross-origin isolated): /bench/browser/ (this page), /js/dist/ (the
// ggufembed npm package as built), /wllama/ (the @wllama/wllama npm package) and /model.gguf.
// It calls the functions of globalThis.bench one step at a time (page.evaluate) and reads the
// renderer's memory from /proc between the steps. Every engine runs in a fresh browser, and
// one page holds one engine: load, then the scenarios, then (wllama) the multi-document try.
const now = () => performance.now();
let eng = null;              // the loaded engine adapter
const kept = new Map();      // vectors kept for the multi-document check (doc -> vector)

// wllama without its console chatter (its native log is suppressed as well)
const quiet = { debug() {}, log() {}, warn: (...a) => console.warn(...a), error: (...a) => console.error(...a) };

const adapters = {
  // ggufembed: the npm package's browser entry, Embedder on the page's thread. With threads
  // > 1 and a cross-origin isolated page it picks the pthreads build, with 1 thread the
  // relaxed-SIMD build when the engine validates relaxed SIMD (Chromium does), else simd128.
  async ggufembed(o) {
    const { Embedder } = await import('/js/dist/browser.js');
    const t0 = now();
    const e = await Embedder.load(o.model, { threads: o.threads, ...(o.variant ? { variant: o.variant } : {}) });
    const load_ms = now() - t0;
    const i = e.info;
    return {
      load_ms,
      info: { variant: i.variant, kernels: i.kernels, threads: i.threads, version: i.version,
              api: 'Embedder (page thread); latency: embed(text), batch: embed(texts) = the batch API' },
      async embed(t) { return { vec: await e.embed(t), tokens: null }; },
      async embedMany(ts) { return await e.embed(ts); },
      async tokens(t) { return (await e.tokenize(t)).length; },
      dispose() { e.dispose(); },
    };
  },

  // wllama: llama.cpp (server-context) compiled to wasm, inference in its own worker. One
  // build since 3.1 (simd128, pthreads, memory64, JSPI); multi-thread when the page is
  // cross-origin isolated and n_threads > 1. The model file is fetched into a Blob and
  // handed to loadModel (its documented local-file path); load time includes that fetch,
  // as ggufembed's includes its streaming fetch.
  async wllama(o) {
    const mod = await import('/wllama/esm/index.js');
    const { Wllama } = mod;
    const params = { n_threads: o.threads, embeddings: true, pooling_type: 'mean', n_gpu_layers: 0,
      n_ctx: o.wllama.n_ctx, n_batch: o.wllama.n_batch, n_ubatch: o.wllama.n_ubatch,
      n_parallel: o.wllama.n_parallel, kv_unified: true };
    if (o.wllama.flash_attn !== 'auto') params.flash_attn = o.wllama.flash_attn === 'on';
    const t0 = now();
    const blob = await (await fetch(o.model)).blob();
    const w = new Wllama({ default: '/wllama/esm/wasm/wllama.wasm' }, { suppressNativeLog: true, logger: quiet });
    await w.loadModel([blob], params);
    const load_ms = now() - t0;
    const ci = w.getLoadedContextInfo();
    const toVec = (d) => Float32Array.from(d.embedding);
    return {
      load_ms,
      info: { version: o.wllama.version, libllama: Wllama.getLibllamaVersion(), multithread: w.isMultithread(),
              threads: w.getNumThreads(), params, n_ctx: ci.n_ctx, n_batch: ci.n_batch, n_ubatch: ci.n_ubatch,
              api: 'createEmbedding({input: text}) per document (latency and batch: one document after another)' },
      async embed(t) {
        const r = await w.createEmbedding({ input: t });
        return { vec: toVec(r.data[0]), tokens: r.usage?.prompt_tokens ?? null };
      },
      async embedMany(ts) {
        const r = await w.createEmbedding({ input: ts });
        return [...r.data].sort((a, b) => a.index - b.index).map(toVec);
      },
      async tokens() { return null; },
      dispose() { return w.exit(); },
    };
  },
};

function cosine(a, b) {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return d / Math.sqrt(na * nb);
}

globalThis.bench = {
  env() {
    let relaxed = false;
    try { // f32x4.relaxed_madd (the probe js/src/backend.js uses)
      relaxed = WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123,
        3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11]));
    } catch { /* no */ }
    return { crossOriginIsolated: globalThis.crossOriginIsolated, sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
      relaxedSimd: relaxed, jspi: typeof WebAssembly.promising === 'function', hardwareConcurrency: navigator.hardwareConcurrency,
      userAgent: navigator.userAgent, webgpu: !!navigator.gpu };
  },

  async load(engine, opts) {
    eng = await adapters[engine](opts);
    return { load_ms: eng.load_ms, info: eng.info };
  },

  /**
   * Untimed calls (warm-up): at least n, and until minMs have passed (V8 compiles wasm with its
   * baseline compiler first and tiers hot functions up in the background; for wllama's 10 MB
   * module that takes seconds on a busy machine). Returns the token count of the text.
   */
  async warm(text, n, minMs) {
    let tok = null, calls = 0;
    const t0 = now();
    while (calls < n || now() - t0 < minMs) {
      tok = (await eng.embed(text)).tokens;
      calls++;
    }
    return { tokens: (await eng.tokens(text)) ?? tok, calls, ms: now() - t0 };
  },

  /** reps timed single-text calls: text -> vector */
  async latency(text, reps, wantVector) {
    const samples = [];
    let last = null;
    for (let i = 0; i < reps; i++) {
      const a = now();
      last = await eng.embed(text);
      samples.push(now() - a);
    }
    return { samples_ms: samples, tokens: (await eng.tokens(text)) ?? last?.tokens ?? null,
             vector: wantVector && last ? Array.from(last.vec) : null };
  },

  /**
   * reps timed passes over docs. mode 'api': one call with all documents (ggufembed's batch
   * API); 'sequential': one call per document, one after another (wllama).
   */
  async batch(docs, reps, mode, warmDocs) {
    if (warmDocs > 0) {
      if (mode === 'api') await eng.embedMany(docs.slice(0, warmDocs));
      else for (const d of docs.slice(0, warmDocs)) await eng.embed(d);
    }
    const samples = [];
    let tokens = 0, vecs = [];
    for (let r = 0; r < reps; r++) {
      const a = now();
      if (mode === 'api') {
        vecs = await eng.embedMany(docs);
      } else {
        vecs = [];
        tokens = 0;
        for (const d of docs) {
          const x = await eng.embed(d);
          vecs.push(x.vec);
          tokens += x.tokens ?? 0;
        }
      }
      samples.push(now() - a);
    }
    if (mode === 'api' || !tokens) {
      tokens = 0;
      for (const d of docs) tokens += (await eng.tokens(d)) ?? 0;
    }
    docs.forEach((d, i) => kept.set(d, vecs[i]));
    return { samples_ms: samples, tokens: tokens || null, n_docs: docs.length, n_vectors: vecs.length,
             vector: vecs.length ? Array.from(vecs[0]) : null };
  },

  /**
   * One call with all the documents (wllama's multi-input createEmbedding): does it return one
   * vector per document, equal to the one-at-a-time vectors of the batch step, and how fast?
   * Bounded by timeoutMs (it returned one vector or stalled in 3.8.1); run it after the other
   * scenarios, the engine may be unusable afterwards.
   */
  async multi(docs, timeoutMs) {
    const a = now();
    let timer;
    const timeout = new Promise((r) => { timer = setTimeout(() => r('timeout'), timeoutMs); });
    try {
      const res = await Promise.race([eng.embedMany(docs), timeout]);
      const ms = now() - a;
      if (res === 'timeout') return { status: 'timeout', ms, n_inputs: docs.length, n_returned: 0 };
      const cos = docs.map((d, i) => (kept.has(d) && res[i] ? cosine(kept.get(d), res[i]) : null));
      const ok = res.length === docs.length && cos.every((c) => c !== null && c > 0.999);
      const known = cos.filter((c) => c !== null);
      return { status: ok ? 'ok' : 'wrong', ms, n_inputs: docs.length, n_returned: res.length,
               min_cosine_vs_single: known.length ? Math.min(...known) : null };
    } catch (e) {
      return { status: 'error', ms: now() - a, n_inputs: docs.length, n_returned: 0, error: String(e?.message ?? e) };
    } finally {
      clearTimeout(timer);
    }
  },

  async dispose() { try { await eng?.dispose(); } catch { /* closing anyway */ } eng = null; },
};
document.body.dataset.state = 'ready';
