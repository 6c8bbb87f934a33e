// The Embedder: one model in one wasm instance, an async API over a serial queue.
// Environment specifics (how to get the wasm modules, how to read a source) come
// from a platform object given by node.js or browser.js.

import { Backend, chooseVariant } from './backend.js';
import { GgufembedError, asGgufembedError, codeOf, throwIfAborted } from './errors.js';

// wasm32 memory is 4 GiB, and the instance needs some for itself
const MAX_MODEL_BYTES = 0xfff00000;
/** Test hooks (js/test only): e[INTERNALS]() gives the instance's constants and fault injection. */
const INTERNALS = Symbol.for('ggufembed.internals');
// A long batch is embedded (or reranked) in chunks (the core packs each chunk's texts
// into forward passes), checking the AbortSignal and dispose() in between.
const CHUNK_TEXTS = 16, CHUNK_BYTES = 16384;

const yieldToEventLoop = () => new Promise((r) => setTimeout(r, 0));

// An optional string option as UTF-8 bytes (NUL-terminated later), or null.
function optionalString(options, key) {
  const v = options[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new GgufembedError(`${key} must be a string, got ${typeof v}`, { code: 'INVALID_ARGUMENT' });
  if (v.includes('\0')) throw new GgufembedError(`${key} must not contain NUL characters`, { code: 'INVALID_ARGUMENT' });
  return Backend.bytes(v);
}

// The core's ggufembed_whitespace name for the option (its value comes from the module).
function whitespaceName(ws) {
  if (ws === undefined || ws === 'strip') return 'STRIP';
  if (ws === 'keep') return 'KEEP';
  throw new GgufembedError(`whitespace must be 'strip' or 'keep', got ${JSON.stringify(ws)}`, { code: 'INVALID_ARGUMENT' });
}

/**
 * Copies a model source into wasm memory without a second full copy in JS:
 * the buffer is allocated up front (size known) and each chunk is written into it.
 * `reader` is { size?: number, chunks(): AsyncIterable<Uint8Array> } or
 * { size: number, readInto(u8, offset, position, length): Promise<number> }.
 * Returns { ptr, size }; on any failure the buffer is freed. The caller closes the reader.
 */
async function streamIntoWasm(backend, reader, { onProgress, signal }) {
  const total = reader.size ?? undefined;
  if (total !== undefined && total > MAX_MODEL_BYTES) {
    throw new GgufembedError(`out of memory: the model (${total} bytes) does not fit in WebAssembly's 4 GiB memory`, { code: 'OUT_OF_MEMORY' });
  }
  let cap = total ?? 64 << 20;
  let ptr = 0;
  let loaded = 0;
  let lastReport = -1;
  const report = (force) => {
    if (!onProgress) return;
    if (!force && loaded - lastReport < (1 << 20)) return;
    lastReport = loaded;
    onProgress({ loaded, total });
  };
  const looksLikeGguf = () => {
    const u8 = backend.u8();
    return u8[ptr] === 0x47 && u8[ptr + 1] === 0x47 && u8[ptr + 2] === 0x55 && u8[ptr + 3] === 0x46;
  };
  try {
    ptr = backend.alloc(Math.max(cap, 1));
    report(true);
    if (reader.readInto) {
      const CH = 8 << 20;
      while (loaded < total) {
        throwIfAborted(signal);
        const n = await reader.readInto(backend.u8(), ptr + loaded, loaded, Math.min(CH, total - loaded));
        if (n <= 0) break;
        loaded += n;
        report(false);
        if (loaded >= 4 && loaded - n < 4 && !looksLikeGguf()) break; // let the core name the problem
      }
    } else {
      for await (const chunk of reader.chunks()) {
        throwIfAborted(signal);
        if (loaded + chunk.length > cap) {
          if (total !== undefined) throw new GgufembedError(`the source sent more than its announced ${total} bytes`, { code: 'IO' });
          let ncap = Math.min(cap * 2, MAX_MODEL_BYTES);
          while (ncap < loaded + chunk.length && ncap < MAX_MODEL_BYTES) ncap = Math.min(ncap * 2, MAX_MODEL_BYTES);
          if (ncap < loaded + chunk.length) {
            throw new GgufembedError(`out of memory: the model (over ${loaded + chunk.length} bytes) does not fit in WebAssembly's 4 GiB memory`, { code: 'OUT_OF_MEMORY' });
          }
          const np = backend.alloc(ncap);
          backend.u8().copyWithin(np, ptr, ptr + loaded);
          backend.free(ptr);
          ptr = np; cap = ncap;
        }
        backend.u8().set(chunk, ptr + loaded);
        loaded += chunk.length;
        report(false);
        if (loaded >= 4 && loaded - chunk.length < 4 && !looksLikeGguf()) break;
      }
    }
    throwIfAborted(signal);
    report(true);
  } catch (e) {
    if (ptr) backend.free(ptr);
    throw e;
  }
  return { ptr, size: loaded };
}

// The texts from index i on that go into one call: [UTF-8 bytes[], total bytes, next index].
function takeChunk(texts, i) {
  const chunk = [];
  let bytes = 0;
  while (i < texts.length && chunk.length < CHUNK_TEXTS && (chunk.length === 0 || bytes < CHUNK_BYTES)) {
    const e = Backend.bytes(texts[i++]);
    chunk.push(e);
    bytes += e.length;
  }
  return [chunk, bytes, i];
}

export function makeEmbedderClass(platform) {
  // Reads the source into backend and opens it there: an Embedder, or a throw that has
  // freed the buffer and closed the handle (the caller disposes the backend and reader).
  async function openModel(backend, reader, { onProgress, signal, kernels, validate, variant, nThreads }) {
    let buf;
    try {
      buf = await streamIntoWasm(backend, reader, { onProgress, signal });
    } finally {
      await reader.close?.();
    }
    let h = 0;
    try {
      if (kernels) { // like the CLI's --kernels: 'scalar' or the build's SIMD table
        const name = Backend.bytes(String(kernels) + '\0');
        const np = backend.alloc(name.length);
        backend.u8().set(name, np);
        const rc = backend.call('ge_js_select_kernels', np);
        backend.free(np);
        if (rc !== 0) throw new GgufembedError(`kernels '${kernels}' are not available in the ${variant} build`, { code: 'INVALID_ARGUMENT' });
      }
      throwIfAborted(signal); // the last point where an abort can stop the load
      const flags = validate ? backend.k('open', 'VALIDATE') : 0;
      const stPtr = backend.alloc(4);
      const { ptr, size } = buf;
      buf = null; // ge_js_open takes the buffer, whether it succeeds or not
      h = backend.call('ge_js_open', ptr, size, nThreads, flags, stPtr) >>> 0;
      const status = new Int32Array(backend.memory.buffer, stPtr, 1)[0];
      backend.free(stPtr);
      if (!h) {
        const msg = backend.str(backend.call('ge_js_open_error'));
        throw new GgufembedError(msg || 'cannot open the model', { status, code: codeOf(status) });
      }
      const json = backend.str(backend.call('ge_js_info', h));
      if (!json) throw new GgufembedError('out of memory (model info)', { code: 'OUT_OF_MEMORY' });
      const info = Object.freeze({ ...JSON.parse(json), variant: backend.variant });
      return new Embedder(platform, backend, h, info);
    } catch (e) {
      if (h) { try { backend.call('ge_js_close', h); } catch { /* the backend is disposed next */ } }
      if (buf) backend.free(buf.ptr);
      throw e;
    }
  }

  class Embedder {
    #backend; #h; #queue = Promise.resolve(); #info; #disposed = false;

    constructor(token, backend, handle, info) {
      if (token !== platform) throw new TypeError('use Embedder.load(source, options)');
      this.#backend = backend;
      this.#h = handle;
      this.#info = info;
    }

    /**
     * Loads a GGUF embedding model. source: URL string or URL, a file path (Node),
     * ArrayBuffer, typed array, Blob/File, or Response. Whatever fails (or is aborted),
     * everything the load had started is released before the promise rejects: the
     * wasm instance and its threads, the source (file handle, download), the buffer.
     */
    static async load(source, options = {}) {
      const { onProgress, signal } = options;
      try {
        throwIfAborted(signal);
        const threads = options.threads ?? platform.defaultThreads();
        if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
          throw new GgufembedError(`threads must be an integer from 1 to 64, got ${threads}`, { code: 'INVALID_ARGUMENT' });
        }
        const variant = chooseVariant(threads, options.variant, platform.autoRelaxed);
        const nThreads = variant === 'threads' ? threads : 1;
        // Both halves run at once; each is awaited to the end even when the other fails,
        // so that the one that succeeded can be released (not left with its workers or handle).
        const [b, r] = await Promise.allSettled([
          (async () => platform.loadBackend(variant, nThreads))(),
          (async () => platform.openSource(source, signal))(),
        ]);
        const backend = b.value ?? null, reader = r.value ?? null;
        try {
          if (b.status === 'rejected') throw asGgufembedError(b.reason, 'INTERNAL', 'cannot start WebAssembly', signal);
          if (r.status === 'rejected') throw asGgufembedError(r.reason, 'IO', 'cannot open the model', signal);
          throwIfAborted(signal);
          return await openModel(backend, reader, { ...options, variant, nThreads });
        } catch (e) {
          try { await reader?.close?.(); } catch { /* the load's own error is the one to report */ }
          backend?.dispose();
          throw e;
        }
      } catch (e) {
        throw asGgufembedError(e, 'IO', 'cannot read the model', signal);
      }
    }

    /** architecture, dimension, contextLength, ... plus the wasm variant and kernels in use. */
    get info() { return this.#info; }

    get disposed() { return this.#disposed; }

    #enqueue(fn) {
      const run = this.#queue.then(() => {
        if (this.#disposed) throw new GgufembedError('this Embedder has been disposed', { code: 'INVALID_ARGUMENT' });
        return fn();
      });
      this.#queue = run.catch(() => {});
      return run;
    }

    /**
     * Embeds one text (-> Float32Array) or an array of texts (-> Float32Array[]).
     * options: task (a name the model defines, see info.taskNames; the core resolves it),
     * title (EmbeddingGemma documents; implies task 'document'), instruction (Qwen3
     * queries; implies task 'query'), prefix (free text before each text instead of a
     * task prompt; task must be 'none'), dimensions, normalize (default true), truncate
     * (default false), whitespace ('strip' (default, as sentence-transformers) or 'keep'
     * (as llama.cpp)), signal. Whether the options fit the model is the core's decision,
     * and its message is the error's.
     */
    embed(input, options = {}) {
      const single = !Array.isArray(input);
      const texts = single ? [input] : input;
      for (const t of texts) {
        if (typeof t !== 'string') return Promise.reject(new GgufembedError('embed() takes a string or an array of strings', { code: 'INVALID_ARGUMENT' }));
      }
      return this.#enqueue(async () => {
        const { signal } = options;
        throwIfAborted(signal);
        const b = this.#backend;
        const whitespace = b.k('whitespace', whitespaceName(options.whitespace));
        // as the CLI: a title implies task 'document', an instruction 'query'; the core resolves the name
        const task = options.task ?? (options.title != null ? 'document' : options.instruction != null ? 'query' : null);
        const strs = {
          task: optionalString({ task: task === null ? null : String(task) }, 'task'),
          title: optionalString(options, 'title'),
          prefix: optionalString(options, 'prefix'),
          instruction: optionalString(options, 'instruction'),
        };
        const dims = options.dimensions ?? 0;
        if (!Number.isInteger(dims)) throw new GgufembedError(`dimensions must be an integer, got ${dims}`, { code: 'INVALID_ARGUMENT' });
        const dim = b.call('ge_js_dimension', this.#h, dims);
        if (dim < 0) throw new GgufembedError(b.str(b.call('ge_js_error', this.#h)), { code: 'INVALID_ARGUMENT' });
        const opts = { strs, dims, normalize: options.normalize === false ? 0 : 1, truncation: b.k('truncate', options.truncate ? 'END' : 'ERROR'), whitespace, dim };
        const out = [];
        // an empty batch still has its options checked by the core
        if (texts.length === 0) this.#embedChunk([], 0, opts, out);
        let i = 0;
        while (i < texts.length) {
          if (i > 0) {
            await yieldToEventLoop();
            if (this.#disposed) throw new GgufembedError('this Embedder was disposed during embed()', { code: 'INVALID_ARGUMENT' });
          }
          throwIfAborted(signal);
          const [chunk, bytes, next] = takeChunk(texts, i);
          i = next;
          this.#embedChunk(chunk, bytes, opts, out);
        }
        return single ? out[0] : out;
      });
    }

    #embedChunk(chunk, bytes, { strs, dims, normalize, truncation, whitespace, dim }, out) {
      const b = this.#backend, n = chunk.length;
      const outOff = 8 * n, textOff = outOff + 4 * n * dim;
      let strOff = textOff + bytes;
      const placed = {};
      for (const [k, v] of Object.entries(strs)) {
        if (v) { placed[k] = strOff; strOff += v.length + 1; }
      }
      const base = b.alloc(strOff + 1);
      try {
        let u8 = b.u8();
        const dv = new DataView(u8.buffer);
        let p = base + textOff;
        for (let k = 0; k < n; k++) {
          u8.set(chunk[k], p);
          dv.setUint32(base + 4 * k, p, true);
          dv.setUint32(base + 4 * n + 4 * k, chunk[k].length, true);
          p += chunk[k].length;
        }
        const ptr = {};
        for (const [k, v] of Object.entries(strs)) {
          if (!v) { ptr[k] = 0; continue; }
          u8.set(v, base + placed[k]);
          u8[base + placed[k] + v.length] = 0;
          ptr[k] = base + placed[k];
        }
        const st = b.call('ge_js_embed', this.#h, base, base + 4 * n, n, ptr.task, ptr.title, ptr.prefix, ptr.instruction,
          dims, normalize, truncation, whitespace, base + outOff, n * dim);
        if (st !== 0) throw new GgufembedError(b.str(b.call('ge_js_error', this.#h)), { status: st, code: codeOf(st) });
        u8 = b.u8();
        for (let k = 0; k < n; k++) {
          const start = base + outOff + 4 * k * dim;
          out.push(new Float32Array(u8.slice(start, start + 4 * dim).buffer));
        }
      } finally {
        b.free(base);
      }
    }

    /**
     * Scores each document against the query with a reranker (info.reranker: pooling
     * type rank, e.g. bge-reranker): a Float32Array, one score per document in order,
     * higher = more relevant (the classifier's raw logit, or Qwen3's probability of
     * "yes"). options: signal (checked between chunks of documents).
     */
    rerank(query, documents, options = {}) {
      if (typeof query !== 'string') return Promise.reject(new GgufembedError('rerank() takes a query string', { code: 'INVALID_ARGUMENT' }));
      if (!Array.isArray(documents) || documents.some((d) => typeof d !== 'string')) {
        return Promise.reject(new GgufembedError('rerank() takes an array of document strings', { code: 'INVALID_ARGUMENT' }));
      }
      return this.#enqueue(async () => {
        const { signal } = options;
        throwIfAborted(signal);
        const q = Backend.bytes(query);
        const scores = new Float32Array(documents.length);
        // an empty list still asks the core whether the model is a reranker
        if (documents.length === 0) this.#rerankChunk(q, [], 0, scores, 0);
        let i = 0;
        while (i < documents.length) {
          if (i > 0) {
            await yieldToEventLoop();
            if (this.#disposed) throw new GgufembedError('this Embedder was disposed during rerank()', { code: 'INVALID_ARGUMENT' });
          }
          throwIfAborted(signal);
          const [chunk, bytes, next] = takeChunk(documents, i);
          this.#rerankChunk(q, chunk, bytes, scores, i);
          i = next;
        }
        return scores;
      });
    }

    #rerankChunk(q, chunk, bytes, scores, at) {
      const b = this.#backend, n = chunk.length;
      const scoreOff = 8 * n, qOff = scoreOff + 4 * n, docOff = qOff + q.length;
      const base = b.alloc(docOff + bytes + 1);
      try {
        let u8 = b.u8();
        const dv = new DataView(u8.buffer);
        u8.set(q, base + qOff);
        let p = base + docOff;
        for (let k = 0; k < n; k++) {
          u8.set(chunk[k], p);
          dv.setUint32(base + 4 * k, p, true);
          dv.setUint32(base + 4 * n + 4 * k, chunk[k].length, true);
          p += chunk[k].length;
        }
        const st = b.call('ge_js_rerank', this.#h, base + qOff, q.length, base, base + 4 * n, n, base + scoreOff);
        if (st !== 0) throw new GgufembedError(b.str(b.call('ge_js_error', this.#h)), { status: st, code: codeOf(st) });
        u8 = b.u8();
        scores.set(new Float32Array(u8.slice(base + scoreOff, base + scoreOff + 4 * n).buffer), at);
      } finally {
        b.free(base);
      }
    }

    /** Token ids of a text (BOS/EOS added and special tokens parsed, like llama.cpp). */
    tokenize(text, options = {}) {
      if (typeof text !== 'string') return Promise.reject(new GgufembedError('tokenize() takes a string', { code: 'INVALID_ARGUMENT' }));
      return this.#enqueue(async () => {
        const b = this.#backend;
        const flags = (options.addSpecial === false ? 0 : b.k('tokenize', 'ADD_SPECIAL')) |
          (options.parseSpecial === false ? 0 : b.k('tokenize', 'PARSE_SPECIAL'));
        const bytes = Backend.bytes(text);
        let cap = bytes.length + 8;
        for (;;) {
          const base = b.alloc(12 + bytes.length + 4 * cap);
          try {
            b.u8().set(bytes, base + 8);
            const ids = base + 8 + ((bytes.length + 3) & ~3);
            const st = b.call('ge_js_tokenize', this.#h, base + 8, bytes.length, flags, ids, cap, base);
            const n = new Uint32Array(b.memory.buffer, base, 1)[0];
            if (st === b.k('status', 'BUFFER_TOO_SMALL')) { cap = n; continue; }
            if (st !== 0) throw new GgufembedError(b.str(b.call('ge_js_error', this.#h)), { status: st, code: codeOf(st) });
            return new Int32Array(b.u8().slice(ids, ids + 4 * n).buffer);
          } finally {
            b.free(base);
          }
        }
      });
    }

    /** For the package's tests: this instance's C constants, and failing its nth allocation from now on. */
    [INTERNALS]() {
      const b = this.#backend;
      return { constants: b?.K, failAllocAfter: (n) => b.call('ge_js_fail_alloc_after', n) };
    }

    /** Frees the model and its wasm memory (and threads) now; later calls fail. */
    dispose() {
      if (this.#disposed) return;
      this.#disposed = true;
      const b = this.#backend;
      try { b.call('ge_js_close', this.#h); } catch { /* the instance is dropped anyway */ }
      b.dispose();
      this.#backend = null;
    }
  }
  return Embedder;
}
