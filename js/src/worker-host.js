// The worker side of the Worker entry point: one Embedder per worker, requests
// served through the Embedder's own serial queue, AbortSignals forwarded.
import { GgufembedError } from './errors.js';

export function serve(Embedder, post, onMessage) {
  let embedder = null;
  let closed = false; // after 'dispose': nothing more is served, a late load is freed at once
  const controllers = new Map();
  const fail = (id, e) => post({
    id, error: { name: e?.name ?? 'Error', message: e?.message ?? String(e), code: e?.code ?? 'INTERNAL', status: e?.status },
  });
  onMessage(async (msg) => {
    const { id, op } = msg;
    if (op === 'abort') { controllers.get(msg.target)?.abort(); return; }
    if (op === 'dispose') {
      closed = true;
      for (const ac of controllers.values()) ac.abort();
      embedder?.dispose();
      embedder = null;
      post({ id, ok: true });
      return;
    }
    const ac = new AbortController();
    controllers.set(id, ac);
    try {
      if (closed) throw new GgufembedError('this WorkerEmbedder has been disposed', { code: 'INVALID_ARGUMENT' });
      let result;
      if (op === 'load') {
        if (embedder) throw new GgufembedError('this worker already holds a model', { code: 'INVALID_ARGUMENT' });
        const e = await Embedder.load(msg.source, {
          ...msg.options, signal: ac.signal, onProgress: (p) => post({ id, progress: p }),
        });
        if (closed) { e.dispose(); throw new GgufembedError('this WorkerEmbedder has been disposed', { code: 'INVALID_ARGUMENT' }); }
        embedder = e;
        result = embedder.info;
      } else if (!embedder) {
        throw new GgufembedError('no model loaded', { code: 'INVALID_ARGUMENT' });
      } else if (op === 'embed') {
        result = await embedder.embed(msg.input, { ...msg.options, signal: ac.signal });
      } else if (op === 'rerank') {
        result = await embedder.rerank(msg.query, msg.documents, { ...msg.options, signal: ac.signal });
      } else if (op === 'tokenize') {
        result = await embedder.tokenize(msg.text, msg.options);
      } else {
        throw new GgufembedError(`unknown request '${op}'`, { code: 'INVALID_ARGUMENT' });
      }
      const transfer = Array.isArray(result) ? result.map((v) => v.buffer) : ArrayBuffer.isView(result) ? [result.buffer] : [];
      post({ id, ok: true, result }, transfer);
    } catch (e) {
      fail(id, e);
    } finally {
      controllers.delete(id);
    }
  });
}
