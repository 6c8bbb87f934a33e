// ggufembed for Node.js (>= 20): wasm files read from disk, models from a path,
// URL, buffer, Blob or Response; threads through worker_threads.
import { createRequire } from 'node:module';
import { open, readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

import { instantiateEmscripten, instantiateReactor } from './backend.js';
import { makeEmbedderClass } from './embedder.js';
import { GgufembedError, asGgufembedError } from './errors.js';
import { sourceReader } from './sources.js';

export { GgufembedError, AbortError } from './errors.js';

const modules = new Map();
function compile(rel) {
  if (!modules.has(rel)) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    const p = (async () => {
      let bytes;
      try { bytes = await readFile(path); } catch (e) { throw asGgufembedError(e, 'IO', `cannot read the WebAssembly module ${path}`); }
      // a file that is not this module (truncated, replaced) is a broken installation
      try { return await WebAssembly.compile(bytes); } catch (e) { throw asGgufembedError(e, 'IO', `cannot compile the WebAssembly module ${path}`); }
    })();
    p.catch(() => modules.delete(rel)); // a later load tries again
    modules.set(rel, p);
  }
  return modules.get(rel);
}

async function importGlue(load, what) {
  try { return await load(); } catch (e) { throw asGgufembedError(e, 'IO', `cannot load ${what}`); }
}

const platform = {
  // Node 20 runs relaxed SIMD only behind --experimental-wasm-relaxed-simd, and its
  // V8 miscompiles reused relaxed-dot operands: never pick it automatically here.
  autoRelaxed: false,
  defaultThreads: () => Math.min(availableParallelism(), 8),

  async loadBackend(variant, threads) {
    if (variant === 'relaxed') return instantiateReactor(await compile('./wasm/ggufembed-relaxed.wasm'));
    if (variant === 'simd') {
      const { default: factory } = await importGlue(() => import('./wasm/ggufembed-st.mjs'), 'wasm/ggufembed-st.mjs');
      return instantiateEmscripten(variant, factory, await compile('./wasm/ggufembed-st.wasm'));
    }
    // Emscripten 3.1.6's ES module cannot start its pthread workers in Node: use
    // the CommonJS build of the same code.
    const factory = await importGlue(() => createRequire(import.meta.url)('./wasm/node/ggufembed-mt.js'), 'wasm/node/ggufembed-mt.js');
    const b = await instantiateEmscripten(variant, factory, await compile('./wasm/node/ggufembed-mt.wasm'),
      { gePoolSize: threads - 1 });
    // An idle pool must not keep the process alive when the user forgets dispose().
    const P = b.emscripten.PThread;
    for (const w of [...(P?.unusedWorkers ?? []), ...(P?.runningWorkers ?? [])]) w.unref?.();
    return b;
  },

  async openSource(source, signal) {
    if (typeof source === 'string' && !/^[a-z][a-z0-9+.-]*:/i.test(source)) return fileReader(source);
    if (typeof source === 'string' && /^file:/i.test(source)) return fileReader(fileURLToPath(source));
    if (source instanceof URL && source.protocol === 'file:') return fileReader(fileURLToPath(source));
    return sourceReader(source, signal);
  },
};

async function fileReader(path) {
  let fh;
  try {
    fh = await open(path, 'r');
    const st = await fh.stat();
    if (!st.isFile()) throw new Error(`'${path}' is not a regular file`);
    let closing = null;
    return {
      size: st.size,
      readInto: async (u8, offset, position, length) => (await fh.read(u8, offset, length, position)).bytesRead,
      close: () => (closing ??= fh.close()), // once, whichever failure path gets here first
    };
  } catch (e) {
    await fh?.close();
    throw new GgufembedError(`cannot open '${path}': ${e.message}`, { code: 'IO', cause: e });
  }
}

export const Embedder = makeEmbedderClass(platform);
export default Embedder;
