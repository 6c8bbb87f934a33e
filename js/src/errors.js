// Errors thrown by ggufembed: every failure of the C core becomes a GgufembedError
// carrying the core's own message; a cancelled load or batch is an AbortError.

const CODES = [
  'OK', 'INVALID_ARGUMENT', 'IO', 'OUT_OF_MEMORY', 'FORMAT', 'UNSUPPORTED',
  'TOO_LONG', 'BUFFER_TOO_SMALL', 'CANCELLED', 'INTERNAL',
];

export class GgufembedError extends Error {
  /**
   * @param {string} message
   * @param {{code?: string, status?: number, cause?: unknown}} [options]
   */
  constructor(message, options = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'GgufembedError';
    this.status = options.status ?? CODES.indexOf(options.code ?? 'INTERNAL');
    this.code = options.code ?? CODES[this.status] ?? 'INTERNAL';
  }
}

export class AbortError extends GgufembedError {
  constructor(message = 'The operation was aborted', cause) {
    super(message, { code: 'ABORTED', status: -1, cause });
    this.name = 'AbortError';
  }
}

export function codeOf(status) {
  return CODES[status] ?? 'INTERNAL';
}

export function throwIfAborted(signal) {
  if (signal?.aborted) {
    const r = signal.reason;
    throw new AbortError(r instanceof Error && r.message ? r.message : 'The operation was aborted', r);
  }
}
