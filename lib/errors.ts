/**
 * Error raised by claq for failures that are not plain argument errors
 * (argument errors are TypeError or RangeError). `code` is stable and can be
 * matched on; the message names the operation, the value and the rule broken.
 */
export class ClaqError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClaqError';
    this.code = code;
  }
}

/** Raised when an AbortSignal stops a long operation; `name` is 'AbortError' like the DOM's. */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR';

  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}

/**
 * Rebuilds an error thrown by the addon as an error of this realm. Native code
 * puts a `code` on its errors (see native/binding/errors.h); the class follows
 * it, so `instanceof` works even where the addon runs in another V8 context
 * (jest's ESM sandbox, for one).
 */
export function fromNativeError(error: unknown, context?: Error): Error {
  // Not `instanceof Object`: an addon error from another V8 context fails it.
  if (typeof error !== 'object' || error === null || typeof (error as { message?: unknown }).message !== 'string') {
    return new ClaqError('ERR_CLAQ_INTERNAL', String(error));
  }
  const { message, code, name } = error as { message: string; code?: string; name?: string };
  let result: Error;
  if (code === 'ABORT_ERR') {
    result = new AbortError(message);
  } else if (name === 'TypeError') {
    result = new TypeError(message);
  } else if (name === 'RangeError') {
    result = new RangeError(message);
  } else {
    result = new ClaqError(code ?? 'ERR_CLAQ_INTERNAL', message);
  }
  if (context?.stack) {
    result.stack = `${result.name}: ${message}\n${context.stack.split('\n').slice(1).join('\n')}`;
  }
  return result;
}
