// The wasm backends behind an Embedder, all with the same small C ABI (wasm/exports.c):
//   'simd'     Emscripten, simd128 kernels, single thread           (everywhere)
//   'relaxed'  clang + wasi-libc reactor, relaxed-SIMD kernels, single thread
//   'threads'  Emscripten + pthreads, simd128 kernels                (SharedArrayBuffer)
// A Backend hides which one it is: call(name, ...args), u8()/f32()/i32() views
// that follow memory growth, and string/alloc helpers.

import { GgufembedError } from './errors.js';

// A tiny module using one relaxed-SIMD instruction (f32x4.relaxed_madd), for
// WebAssembly.validate: (func (param v128 v128 v128) (result v128) local.get 0 1 2 relaxed_madd)
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0,
  10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11,
]);
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0,
  65, 0, 253, 15, 253, 98, 11,
]);

export function hasRelaxedSimd() {
  try { return WebAssembly.validate(RELAXED_PROBE); } catch { return false; }
}
export function hasSimd() {
  try { return WebAssembly.validate(SIMD_PROBE); } catch { return false; }
}
export function hasThreads() {
  if (typeof SharedArrayBuffer !== 'function') return false;
  if (typeof globalThis.crossOriginIsolated === 'boolean' && !globalThis.crossOriginIsolated) return false;
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch { return false; }
}

/** Picks the variant: threads when asked for more than one thread and possible, else relaxed SIMD when the engine validates it, else simd128. */
export function chooseVariant(threads, forced, autoRelaxed = true) {
  if (!hasSimd()) throw new GgufembedError('this WebAssembly engine has no SIMD support (wasm-simd128 is required)', { code: 'UNSUPPORTED' });
  if (forced) {
    if (forced === 'threads' && !hasThreads()) throw new GgufembedError('threads are not available here (SharedArrayBuffer needs cross-origin isolation)', { code: 'UNSUPPORTED' });
    if (forced === 'relaxed' && !hasRelaxedSimd()) throw new GgufembedError('this engine has no relaxed SIMD', { code: 'UNSUPPORTED' });
    if (!['simd', 'relaxed', 'threads'].includes(forced)) throw new GgufembedError(`unknown variant '${forced}' (simd, relaxed or threads)`, { code: 'INVALID_ARGUMENT' });
    return forced;
  }
  if (threads > 1 && hasThreads()) return 'threads';
  return autoRelaxed && hasRelaxedSimd() ? 'relaxed' : 'simd';
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class Backend {
  constructor(variant, exportsOf, memory, onDispose) {
    this.variant = variant;
    this.fns = exportsOf;
    this.memory = memory;
    this.onDispose = onDispose;
    this._u8 = null;
  }

  call(name, ...args) {
    const fn = this.fns[name];
    if (!fn) throw new GgufembedError(`wasm export ${name} is missing`, { code: 'INTERNAL' });
    try {
      return fn(...args);
    } catch (e) {
      this.broken = true;
      throw new GgufembedError(`WebAssembly failure in ${name}: ${e?.message ?? e}`, { code: 'INTERNAL', cause: e });
    }
  }

  u8() {
    const buf = this.memory.buffer;
    if (!this._u8 || this._u8.buffer !== buf) this._u8 = new Uint8Array(buf);
    return this._u8;
  }

  alloc(size) {
    const p = this.call('ge_js_alloc', size >>> 0) >>> 0;
    if (!p) throw new GgufembedError(`out of memory (could not allocate ${size} bytes of WebAssembly memory)`, { code: 'OUT_OF_MEMORY' });
    return p;
  }

  free(p) { if (p) this.call('ge_js_free', p); }

  /** NUL-terminated string at p, decoded (copied out first: TextDecoder refuses shared memory). */
  str(p) {
    p >>>= 0;
    if (!p) return '';
    const u8 = this.u8();
    let end = p;
    while (u8[end] !== 0) end++;
    return dec.decode(u8.slice(p, end));
  }

  /** UTF-8 bytes of s (a regular array, never a view of shared memory). */
  static bytes(s) { return enc.encode(s); }

  dispose() {
    if (this.onDispose) this.onDispose();
    this.onDispose = null;
    this.fns = {};
    this._u8 = null;
  }
}

/** Instantiates a wasm-libc reactor (our relaxed-SIMD build) with just enough WASI. */
export async function instantiateReactor(module) {
  let memory;
  const ENOSYS = 52;
  const wasi = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module !== 'wasi_snapshot_preview1' || imp.kind !== 'function') continue;
    wasi[imp.name] = () => ENOSYS;
  }
  // The core never does I/O; keep the few calls libc may make well-behaved.
  wasi.proc_exit = (code) => { throw new GgufembedError(`wasm module exited with code ${code}`, { code: 'INTERNAL' }); };
  wasi.fd_write = (fd, iovs, n, nwritten) => {
    const dv = new DataView(memory.buffer);
    let total = 0, text = '';
    for (let i = 0; i < n; i++) {
      const p = dv.getUint32(iovs + 8 * i, true), len = dv.getUint32(iovs + 8 * i + 4, true);
      text += dec.decode(new Uint8Array(memory.buffer, p, len).slice());
      total += len;
    }
    if (text.trim()) console.error(text.replace(/\n$/, ''));
    dv.setUint32(nwritten, total, true);
    return 0;
  };
  wasi.environ_sizes_get = (count, size) => {
    const dv = new DataView(memory.buffer);
    dv.setUint32(count, 0, true); dv.setUint32(size, 0, true);
    return 0;
  };
  wasi.environ_get = () => 0;
  wasi.random_get = (p, len) => {
    const u8 = new Uint8Array(memory.buffer, p, len);
    for (let i = 0; i < len; i++) u8[i] = (Math.random() * 256) | 0;
    return 0;
  };
  const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi });
  memory = instance.exports.memory;
  if (instance.exports._initialize) instance.exports._initialize();
  return new Backend('relaxed', instance.exports, memory, null);
}

function findMemory(obj) {
  return Object.values(obj || {}).find((v) => v instanceof WebAssembly.Memory);
}

/** Instantiates an Emscripten MODULARIZE factory, compiling the .wasm ourselves. */
export async function instantiateEmscripten(variant, factory, wasmModule, extra = {}) {
  let memory = null;
  const mod = await factory({
    ...extra,
    print: () => {},
    printErr: (s) => { if (String(s).trim()) console.error(`ggufembed: ${s}`); },
    instantiateWasm(imports, receive) {
      WebAssembly.instantiate(wasmModule, imports).then((instance) => {
        memory = findMemory(instance.exports) || Object.values(imports).map(findMemory).find(Boolean);
        receive(instance, wasmModule);
      }, (e) => { console.error('ggufembed: wasm instantiation failed', e); });
      return {};
    },
  });
  if (!memory) memory = mod.wasmMemory || mod.asm?.memory;
  const fns = new Proxy({}, { get: (_, name) => mod['_' + String(name)] });
  const onDispose = () => {
    try { mod.PThread?.terminateAllThreads?.(); } catch { /* already gone */ }
  };
  const b = new Backend(variant, fns, memory, onDispose);
  b.emscripten = mod;
  return b;
}
