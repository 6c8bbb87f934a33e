// ggufembed for browsers (and Web Workers): wasm files next to this module,
// located with new URL(..., import.meta.url) so bundlers find them.
import { instantiateEmscripten, instantiateReactor } from './backend.js';
import { makeEmbedderClass } from './embedder.js';
import { sourceReader } from './sources.js';

export { GgufembedError, AbortError } from './errors.js';

const modules = new Map();
function compile(url) {
  const key = String(url);
  if (!modules.has(key)) {
    const p = (async () => {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`cannot fetch ${url}: HTTP ${res.status}`);
      if (WebAssembly.compileStreaming && (res.headers.get('content-type') || '').startsWith('application/wasm')) {
        return WebAssembly.compileStreaming(res);
      }
      return WebAssembly.compile(await res.arrayBuffer());
    })();
    p.catch(() => modules.delete(key));
    modules.set(key, p);
  }
  return modules.get(key);
}

const platform = {
  autoRelaxed: true,
  defaultThreads: () => Math.max(1, Math.min(globalThis.navigator?.hardwareConcurrency ?? 1, 8)),
  async loadBackend(variant, threads) {
    if (variant === 'relaxed') return instantiateReactor(await compile(new URL('./wasm/ggufembed-relaxed.wasm', import.meta.url)));
    if (variant === 'simd') {
      const { default: factory } = await import('./wasm/ggufembed-st.mjs');
      return instantiateEmscripten(variant, factory, await compile(new URL('./wasm/ggufembed-st.wasm', import.meta.url)));
    }
    const { default: factory } = await import('./wasm/ggufembed-mt.mjs');
    return instantiateEmscripten(variant, factory, await compile(new URL('./wasm/ggufembed-mt.wasm', import.meta.url)),
      { gePoolSize: threads - 1 });
  },
  openSource: (source, signal) => sourceReader(source, signal),
};

export const Embedder = makeEmbedderClass(platform);
export default Embedder;
