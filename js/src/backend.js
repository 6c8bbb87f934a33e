// The wasm backends behind an Embedder, all with the same small C ABI (wasm/exports.c):
//   'simd'     Emscripten, simd128 kernels, single thread           (everywhere)
//   'relaxed'  clang + wasi-libc reactor, relaxed-SIMD kernels, single thread
//   'threads'  Emscripten + pthreads, simd128 kernels                (SharedArrayBuffer)
// A Backend hides which one it is: call(name, ...args), u8()/f32()/i32() views
// that follow memory growth, string/alloc helpers, and the C header's constants
// (k(group, name)) as the module itself reports them.

import { GgufembedError, asGgufembedError, registerStatusCodes } from './errors.js';

/** The C constants the package uses, by ge_js_constants() group: each must exist in the
 * module (checked at init; test/constants.test.mjs checks them against ggufembed.h). */
export const USED_CONSTANTS = {
  status: ['OK', 'INVALID_ARGUMENT', 'IO', 'OUT_OF_MEMORY', 'FORMAT', 'UNSUPPORTED', 'TOO_LONG',
    'BUFFER_TOO_SMALL', 'CANCELLED', 'INTERNAL'],
  tokenize: ['ADD_SPECIAL', 'PARSE_SPECIAL'],
  open: ['VALIDATE'],
  truncate: ['ERROR', 'END'],
  whitespace: ['STRIP', 'KEEP'],
};

// Largest single allocation worth asking for: wasm32 addresses 4 GiB and ge_js_alloc
// takes a 32-bit size (a larger JS number would wrap around to a small one).
const MAX_ALLOC = 0xffff0000;

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

  /** Reads the module's constants (once, before any other use). */
  init() {
    const p = this.call('ge_js_constants');
    if (!p) throw new GgufembedError('out of memory (WebAssembly constants)', { code: 'OUT_OF_MEMORY' });
    const K = JSON.parse(this.str(p));
    for (const [group, names] of Object.entries(USED_CONSTANTS)) {
      for (const n of names) {
        if (!Number.isInteger(K[group]?.[n])) throw new GgufembedError(`the wasm module has no constant ${group}.${n}`, { code: 'INTERNAL' });
      }
    }
    this.K = K;
    registerStatusCodes(K.status);
    return this;
  }

  /** A constant of ggufembed.h as the module has it, e.g. k('tokenize', 'ADD_SPECIAL'). */
  k(group, name) {
    const v = this.K?.[group]?.[name];
    if (v === undefined) throw new GgufembedError(`unknown constant ${group}.${name}`, { code: 'INTERNAL' });
    return v;
  }

  call(name, ...args) {
    // After a trap the instance's heap may be mid-update (allocator, pool): refuse rather
    // than compute on it. The Embedder stays disposable.
    if (this.broken) throw new GgufembedError(`the WebAssembly instance failed earlier (${this.broken}); load the model again`, { code: 'INTERNAL' });
    const fn = this.fns[name];
    if (!fn) throw new GgufembedError(`wasm export ${name} is missing`, { code: 'INTERNAL' });
    try {
      return fn(...args);
    } catch (e) {
      this.broken = `${name}: ${e?.message ?? e}`;
      throw new GgufembedError(`WebAssembly failure in ${name}: ${e?.message ?? e}`, { code: 'INTERNAL', cause: e });
    }
  }

  u8() {
    const buf = this.memory.buffer;
    if (!this._u8 || this._u8.buffer !== buf) this._u8 = new Uint8Array(buf);
    return this._u8;
  }

  alloc(size) {
    if (!Number.isSafeInteger(size) || size < 0 || size > MAX_ALLOC) {
      throw new GgufembedError(`out of memory (${size} bytes do not fit in WebAssembly's 4 GiB address space)`, { code: 'OUT_OF_MEMORY' });
    }
    const p = this.call('ge_js_alloc', size) >>> 0;
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
    const f = this.onDispose;
    this.onDispose = null;
    this.fns = {};
    this._u8 = null;
    this.memory = null; // the instance's memory goes with the last reference to it
    this.emscripten = null;
    f?.();
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
  let instance;
  try {
    instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi });
    memory = instance.exports.memory;
    if (instance.exports._initialize) instance.exports._initialize();
  } catch (e) {
    throw asGgufembedError(e, 'INTERNAL', 'cannot instantiate the WebAssembly module (relaxed)');
  }
  return new Backend('relaxed', instance.exports, memory, null).init();
}

function findMemory(obj) {
  return Object.values(obj || {}).find((v) => v instanceof WebAssembly.Memory);
}

function onWorkerError(w, fn) {
  if (typeof w.on === 'function') w.on('error', fn); // Node's worker_threads
  else w.addEventListener?.('error', fn);
}

/**
 * Instantiates an Emscripten MODULARIZE factory, compiling the .wasm ourselves. Its
 * promise never settles when instantiation or a pthread worker fails (3.1.6 only logs),
 * so those failures reject here, and the pool workers it had already started (the
 * factory creates them synchronously, before the instance) are terminated.
 */
export async function instantiateEmscripten(variant, factory, wasmModule, extra = {}) {
  let memory = null;
  let fail;
  const failed = new Promise((_, reject) => { fail = reject; });
  failed.catch(() => {}); // a failure after a successful start is the calls' business
  const arg = {
    ...extra,
    print: () => {},
    printErr: (s) => { if (String(s).trim()) console.error(`ggufembed: ${s}`); },
    onAbort: (what) => fail(new GgufembedError(`WebAssembly module aborted: ${what}`, { code: 'INTERNAL' })),
    instantiateWasm(imports, receive) {
      WebAssembly.instantiate(wasmModule, imports).then((instance) => {
        memory = findMemory(instance.exports) || Object.values(imports).map(findMemory).find(Boolean);
        receive(instance, wasmModule);
      }, (e) => fail(asGgufembedError(e, 'INTERNAL', `cannot instantiate the WebAssembly module (${variant})`)));
      return {};
    },
  };
  // the factory's argument becomes its Module object: arg.PThread is the pool
  const terminatePool = () => { try { arg.PThread?.terminateAllThreads?.(); } catch { /* already gone */ } };
  let mod;
  try {
    const ready = factory(arg);
    for (const w of arg.PThread?.unusedWorkers ?? []) {
      onWorkerError(w, (e) => fail(asGgufembedError(e?.error ?? e, 'INTERNAL', `a WebAssembly thread failed to start (${variant})`)));
    }
    mod = await Promise.race([ready, failed]);
  } catch (e) {
    terminatePool();
    throw asGgufembedError(e, 'INTERNAL', `cannot start the WebAssembly module (${variant})`);
  }
  if (!memory) memory = mod.wasmMemory || mod.asm?.memory;
  const fns = new Proxy({}, { get: (_, name) => mod['_' + String(name)] });
  const b = new Backend(variant, fns, memory, terminatePool);
  b.emscripten = mod;
  try {
    return b.init();
  } catch (e) {
    b.dispose();
    throw e;
  }
}
