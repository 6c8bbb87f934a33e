// Readers for the model sources shared by browsers and Node: URL (fetch, streaming),
// Response, Blob/File, ArrayBuffer and typed arrays. Each gives chunks to be written
// straight into wasm memory.
import { GgufembedError, asGgufembedError } from './errors.js';

async function* streamChunks(stream) {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    try { await reader.cancel(); } catch { /* closed */ }
    reader.releaseLock();
  }
}

function responseReader(res, what) {
  if (!res.ok) {
    res.body?.cancel().catch(() => {});
    throw new GgufembedError(`cannot fetch ${what}: HTTP ${res.status} ${res.statusText}`.trim(), { code: 'IO' });
  }
  if (!res.body) throw new GgufembedError(`cannot fetch ${what}: the response has no body`, { code: 'IO' });
  const len = res.headers.get('content-length');
  const enc = res.headers.get('content-encoding');
  const size = len !== null && (!enc || enc === 'identity') ? Number(len) : undefined;
  return {
    size: Number.isFinite(size) ? size : undefined,
    chunks: () => streamChunks(res.body),
    // a load that fails before (or without) reading the body must not leave the download running
    close: async () => { if (!res.body.locked) { try { await res.body.cancel(); } catch { /* already closed */ } } },
  };
}

export async function sourceReader(source, signal) {
  if (typeof source === 'string' || source instanceof URL) {
    const url = typeof source === 'string' && typeof location !== 'undefined' ? new URL(source, location.href) : source;
    let res;
    try {
      res = await fetch(url, { signal });
    } catch (e) {
      if (e?.name === 'AbortError' || signal?.aborted) throw asGgufembedError(e, 'IO', '', signal);
      throw new GgufembedError(`cannot fetch ${url}: ${e?.cause?.message ?? e?.message ?? e}`, { code: 'IO', cause: e });
    }
    return responseReader(res, String(url));
  }
  if (typeof Response !== 'undefined' && source instanceof Response) return responseReader(source, source.url || 'the response');
  if (typeof Blob !== 'undefined' && source instanceof Blob) return { size: source.size, chunks: () => streamChunks(source.stream()) };
  let bytes = null;
  if (source instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && source instanceof SharedArrayBuffer)) bytes = new Uint8Array(source);
  else if (ArrayBuffer.isView(source)) bytes = new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  if (bytes) {
    const CH = 8 << 20;
    return {
      size: bytes.length,
      async* chunks() { for (let i = 0; i < bytes.length; i += CH) yield bytes.subarray(i, Math.min(i + CH, bytes.length)); },
    };
  }
  throw new GgufembedError('unsupported model source: pass a URL, a file path (Node), an ArrayBuffer, a Uint8Array, a Blob or a Response', { code: 'INVALID_ARGUMENT' });
}
