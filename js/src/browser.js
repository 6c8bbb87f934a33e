// ggufembed for browsers (and Web Workers): wasm files next to this module,
// located with new URL(..., import.meta.url) so bundlers find them.
import { instantiateEmscripten, instantiateReactor } from './backend.js';
import { makeEmbedderClass } from './embedder.js';
import { GgufembedError, asGgufembedError } from './errors.js';
import { sourceReader } from './sources.js';

export { GgufembedError, AbortError } from './errors.js';

const modules = new Map();
function compile(url) {
  const key = String(url);
  if (!modules.has(key)) {
    const p = (async () => {
      let res;
      try { res = await fetch(url); } catch (e) { throw asGgufembedError(e, 'IO', `cannot fetch the WebAssembly module ${url}`); }
      if (!res.ok) throw new GgufembedError(`cannot fetch the WebAssembly module ${url}: HTTP ${res.status}`, { code: 'IO' });
      // a body that is not this module (an HTML fallback page, a truncated file) is a
      // deployment problem: IO, like a failed fetch
      try {
        if (WebAssembly.compileStreaming && (res.headers.get('content-type') || '').startsWith('application/wasm')) {
          return await WebAssembly.compileStreaming(res);
        }
        return await WebAssembly.compile(await res.arrayBuffer());
      } catch (e) {
        throw asGgufembedError(e, 'IO', `cannot compile the WebAssembly module ${url}`);
      }
    })();
    p.catch(() => modules.delete(key));
    modules.set(key, p);
  }
  return modules.get(key);
}

async function importGlue(load, what) {
  try { return await load(); } catch (e) { throw asGgufembedError(e, 'IO', `cannot load ${what}`); }
}

const platform = {
  autoRelaxed: true,
  defaultThreads: () => Math.max(1, Math.min(globalThis.navigator?.hardwareConcurrency ?? 1, 8)),
  async loadBackend(variant, threads) {
    if (variant === 'relaxed') return instantiateReactor(await compile(new URL('./wasm/ggufembed-relaxed.wasm', import.meta.url)));
    if (variant === 'simd') {
      const { default: factory } = await importGlue(() => import('./wasm/ggufembed-st.mjs'), 'wasm/ggufembed-st.mjs');
      return instantiateEmscripten(variant, factory, await compile(new URL('./wasm/ggufembed-st.wasm', import.meta.url)));
    }
    const { default: factory } = await importGlue(() => import('./wasm/ggufembed-mt.mjs'), 'wasm/ggufembed-mt.mjs');
    return instantiateEmscripten(variant, factory, await compile(new URL('./wasm/ggufembed-mt.wasm', import.meta.url)),
      { gePoolSize: threads - 1 });
  },
  openSource: (source, signal) => sourceReader(source, signal),
};

export const Embedder = makeEmbedderClass(platform);
export default Embedder;
