// The worker side of the Worker entry point: one Embedder per worker, requests
// served through the Embedder's own serial queue, AbortSignals forwarded.
import { GgufembedError } from './errors.js';

export function serve(Embedder, post, onMessage) {
  let embedder = null;
  const controllers = new Map();
  const fail = (id, e) => post({
    id, error: { name: e?.name ?? 'Error', message: e?.message ?? String(e), code: e?.code ?? 'INTERNAL', status: e?.status ?? 9 },
  });
  onMessage(async (msg) => {
    const { id, op } = msg;
    if (op === 'abort') { controllers.get(msg.target)?.abort(); return; }
    if (op === 'dispose') { embedder?.dispose(); embedder = null; post({ id, ok: true }); return; }
    const ac = new AbortController();
    controllers.set(id, ac);
    try {
      let result;
      if (op === 'load') {
        if (embedder) throw new GgufembedError('this worker already holds a model', { code: 'INVALID_ARGUMENT' });
        embedder = await Embedder.load(msg.source, {
          ...msg.options, signal: ac.signal, onProgress: (p) => post({ id, progress: p }),
        });
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
