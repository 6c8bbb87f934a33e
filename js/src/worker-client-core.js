// WorkerEmbedder: the Embedder API, with the model living in a worker so that
// embedding never blocks the calling thread.
import { AbortError, GgufembedError, throwIfAborted } from './errors.js';

export function makeWorkerEmbedder(spawn) {
  return class WorkerEmbedder {
    #w; #next = 1; #pending = new Map(); #info; #disposed = false;

    constructor(w) {
      this.#w = w;
      w.onMessage((m) => {
        const p = this.#pending.get(m.id);
        if (!p) return;
        if (m.progress) { p.onProgress?.(m.progress); return; }
        this.#pending.delete(m.id);
        if (m.error) {
          const E = m.error.name === 'AbortError' ? AbortError : GgufembedError;
          const err = E === AbortError ? new AbortError(m.error.message) : new GgufembedError(m.error.message, m.error);
          p.reject(err);
        } else p.resolve(m.result);
      });
      w.onError((e) => {
        const err = new GgufembedError(`worker failed: ${e?.message ?? e}`, { code: 'INTERNAL', cause: e });
        for (const p of this.#pending.values()) p.reject(err);
        this.#pending.clear();
      });
    }

    #request(msg, { signal, onProgress, transfer } = {}) {
      if (this.#disposed) return Promise.reject(new GgufembedError('this WorkerEmbedder has been disposed', { code: 'INVALID_ARGUMENT' }));
      try { throwIfAborted(signal); } catch (e) { return Promise.reject(e); }
      const id = this.#next++;
      return new Promise((resolve, reject) => {
        const onAbort = () => this.#w.post({ op: 'abort', target: id });
        signal?.addEventListener('abort', onAbort, { once: true });
        const done = (f) => (v) => { signal?.removeEventListener('abort', onAbort); f(v); };
        this.#pending.set(id, { resolve: done(resolve), reject: done(reject), onProgress });
        this.#w.post({ id, ...msg }, transfer);
      });
    }

    /** Same arguments as Embedder.load (a Response is not transferable: pass its URL). */
    static async load(source, options = {}) {
      const { onProgress, signal, ...rest } = options;
      const we = new WorkerEmbedder(await spawn());
      try {
        we.#info = await we.#request({ op: 'load', source, options: rest }, { signal, onProgress });
      } catch (e) {
        we.dispose();
        throw e;
      }
      return we;
    }

    get info() { return this.#info; }

    embed(input, options = {}) {
      const { signal, ...rest } = options;
      return this.#request({ op: 'embed', input, options: rest }, { signal });
    }

    rerank(query, documents, options = {}) {
      const { signal, ...rest } = options;
      return this.#request({ op: 'rerank', query, documents, options: rest }, { signal });
    }

    tokenize(text, options = {}) { return this.#request({ op: 'tokenize', text, options }); }

    /** Terminates the worker, which frees the model. */
    dispose() {
      if (this.#disposed) return;
      this.#disposed = true;
      const err = new GgufembedError('this WorkerEmbedder has been disposed', { code: 'INVALID_ARGUMENT' });
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
      this.#w.terminate();
    }
  };
}
