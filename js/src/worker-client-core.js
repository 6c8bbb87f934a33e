// WorkerEmbedder: the Embedder API, with the model living in a worker so that
// embedding never blocks the calling thread.
//
// spawn() gives { post(msg, transfer), onMessage(fn), onError(fn), onExit(fn)?,
// terminate(): Promise|void, ref()?, unref()? }.
import { AbortError, GgufembedError, asGgufembedError, throwIfAborted } from './errors.js';

// How long dispose() waits for the worker to free its model before terminating it
// anyway (it answers between two chunks of a batch; terminating frees everything too).
const DISPOSE_WAIT_MS = 2000;

const disposedError = () => new GgufembedError('this WorkerEmbedder has been disposed', { code: 'INVALID_ARGUMENT' });

export function makeWorkerEmbedder(spawn) {
  return class WorkerEmbedder {
    #w; #next = 1; #pending = new Map(); #info; #disposed = false; #gone = null; #dead = null;

    constructor(w) {
      this.#w = w;
      w.onMessage((m) => {
        const p = this.#pending.get(m.id);
        if (!p) return;
        if (m.progress) { p.onProgress?.(m.progress); return; }
        this.#settle(m.id);
        if (m.error) {
          const err = m.error.name === 'AbortError' ? new AbortError(m.error.message)
            : new GgufembedError(m.error.message, { code: m.error.code, status: m.error.status });
          p.reject(err);
        } else p.resolve(m.result);
      });
      w.onError((e) => this.#fail(new GgufembedError(`worker failed: ${e?.message ?? e}`, { code: 'INTERNAL', cause: e })));
      // a worker that exits on its own (crashed, out of memory) fails what it was doing
      w.onExit?.((code) => this.#fail(new GgufembedError(`the worker exited (code ${code})`, { code: 'INTERNAL' })));
      w.unref?.(); // idle, it must not keep Node alive (as the Embedder's thread pool)
    }

    // After this the worker is unusable: every call rejects with err.
    #fail(err) {
      this.#dead ??= err;
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
      this.#w.unref?.();
    }

    #settle(id) {
      this.#pending.delete(id);
      if (this.#pending.size === 0) this.#w.unref?.();
    }

    #request(msg, { signal, onProgress, transfer } = {}) {
      if (this.#disposed) return Promise.reject(disposedError());
      if (this.#dead) return Promise.reject(this.#dead);
      try { throwIfAborted(signal); } catch (e) { return Promise.reject(e); }
      const id = this.#next++;
      return new Promise((resolve, reject) => {
        const onAbort = () => this.#w.post({ op: 'abort', target: id });
        signal?.addEventListener('abort', onAbort, { once: true });
        const done = (f) => (v) => { signal?.removeEventListener('abort', onAbort); f(v); };
        this.#pending.set(id, { resolve: done(resolve), reject: done(reject), onProgress });
        this.#w.ref?.(); // a call in flight keeps Node alive until it settles
        try {
          this.#w.post({ id, ...msg }, transfer);
        } catch (e) { // e.g. DataCloneError: a source that cannot be sent to a worker
          this.#settle(id);
          done(reject)(asGgufembedError(e, 'INVALID_ARGUMENT', 'cannot send the request to the worker'));
        }
      });
    }

    /** Same arguments as Embedder.load (a Response is not transferable: pass its URL). A
     * failed or aborted load has terminated its worker when the promise rejects. */
    static async load(source, options = {}) {
      const { onProgress, signal, ...rest } = options;
      throwIfAborted(signal);
      if (typeof Response !== 'undefined' && source instanceof Response) {
        throw new GgufembedError('a Response cannot be sent to a worker: pass its URL (or its bytes, or a Blob)', { code: 'INVALID_ARGUMENT' });
      }
      let w;
      try { w = await spawn(); } catch (e) { throw asGgufembedError(e, 'INTERNAL', 'cannot start the worker'); }
      const we = new WorkerEmbedder(w);
      try {
        we.#info = await we.#request({ op: 'load', source, options: rest }, { signal, onProgress });
      } catch (e) {
        await we.dispose();
        throw e;
      }
      return we;
    }

    get info() { return this.#info; }

    get disposed() { return this.#disposed; }

    embed(input, options = {}) {
      const { signal, ...rest } = options;
      return this.#request({ op: 'embed', input, options: rest }, { signal });
    }

    rerank(query, documents, options = {}) {
      const { signal, ...rest } = options;
      return this.#request({ op: 'rerank', query, documents, options: rest }, { signal });
    }

    tokenize(text, options = {}) { return this.#request({ op: 'tokenize', text, options }); }

    /**
     * Rejects pending calls, has the worker free its model (wasm instance and threads),
     * then terminates the worker. Resolves when the worker is gone; calling it without
     * awaiting is fine.
     */
    dispose() {
      if (this.#gone) return this.#gone;
      this.#disposed = true;
      const err = disposedError();
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
      const w = this.#w;
      w.ref?.(); // until the worker is gone
      this.#gone = (async () => {
        if (!this.#dead) {
          // the worker's Embedder.dispose() (ge_js_close, the pool terminated), answered with
          // the id; a worker that does not answer in time is terminated all the same
          const id = this.#next++;
          let timer;
          await new Promise((resolve) => {
            this.#pending.set(id, { resolve, reject: resolve });
            timer = setTimeout(resolve, DISPOSE_WAIT_MS);
            timer.unref?.();
            try { w.post({ id, op: 'dispose' }); } catch { resolve(); }
          });
          clearTimeout(timer);
          this.#pending.delete(id);
        }
        this.#dead ??= err;
        try { await w.terminate(); } catch { /* already exited */ }
      })();
      return this.#gone;
    }
  };
}
