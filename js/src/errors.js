// Errors thrown by ggufembed: every failure of the C core becomes a GgufembedError
// carrying the core's own message; a cancelled load or batch is an AbortError. Failures
// outside the core (fetching or compiling the .wasm, reading a source, a worker that
// died) are GgufembedErrors too, wrapped where they happen.

// The core's status numbers by name (OK, INVALID_ARGUMENT, ...), read from the first wasm
// module initialized (ge_js_constants): the numbers are C's, never copied here.
let STATUS = null;
let STATUS_NAMES = null;

/** Called by each backend at init with its module's status table. */
export function registerStatusCodes(table) {
  if (STATUS) {
    for (const [k, v] of Object.entries(table)) {
      if (STATUS[k] !== v) throw new GgufembedError(`wasm modules disagree on status ${k} (${STATUS[k]} vs ${v})`, { code: 'INTERNAL' });
    }
    return;
  }
  STATUS = Object.freeze({ ...table });
  STATUS_NAMES = new Map(Object.entries(table).map(([k, v]) => [v, k]));
}

export class GgufembedError extends Error {
  #status;
  /**
   * @param {string} message
   * @param {{code?: string, status?: number, cause?: unknown}} [options]
   */
  constructor(message, options = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'GgufembedError';
    this.code = options.code ?? (options.status !== undefined ? codeOf(options.status) : 'INTERNAL');
    this.#status = options.status;
  }

  /** The core's ggufembed_status for this code (-1 for codes that are JavaScript's only, such
   * as ABORTED, or before any wasm module has been loaded in this thread). */
  get status() {
    if (this.#status !== undefined) return this.#status;
    return STATUS && Object.hasOwn(STATUS, this.code) ? STATUS[this.code] : -1;
  }
}

export class AbortError extends GgufembedError {
  constructor(message = 'The operation was aborted', cause) {
    super(message, { code: 'ABORTED', status: -1, cause });
    this.name = 'AbortError';
  }
}

export function codeOf(status) {
  return STATUS_NAMES?.get(status) ?? 'INTERNAL';
}

function abortMessage(r) {
  return r instanceof Error && r.message ? r.message : 'The operation was aborted';
}

export function throwIfAborted(signal) {
  if (signal?.aborted) throw new AbortError(abortMessage(signal.reason), signal.reason);
}

/**
 * Any failure as a GgufembedError: ours unchanged, an abort (a DOMException named
 * AbortError from fetch or a stream, or a signal that has fired) as our AbortError,
 * anything else with `code` and `what` before its message.
 */
export function asGgufembedError(e, code, what, signal) {
  if (e instanceof GgufembedError) return e;
  if (e?.name === 'AbortError' || signal?.aborted) return new AbortError(abortMessage(signal?.reason ?? e), signal?.reason ?? e);
  const msg = e instanceof Error ? e.message : String(e);
  // an engine that cannot reserve a WebAssembly.Memory throws RangeError ("could not allocate memory")
  if (e instanceof RangeError && /memory/i.test(msg)) code = 'OUT_OF_MEMORY';
  return new GgufembedError(what ? `${what}: ${msg}` : msg, { code, cause: e });
}
