// Runs a native job ({ promise, abort }) under an optional AbortSignal.
import { AbortError, fromNativeError } from '../errors.js';
import type { NativeJob } from '../../types/native.js';

/**
 * Starts the job, forwards an abort of `signal` to it, and rethrows its
 * errors as errors of this realm. `context` is created by the caller before
 * the call so the error keeps the caller's stack.
 */
export async function runNativeJob<T>(start: () => NativeJob<T>, signal: AbortSignal | undefined,
  context: Error): Promise<T> {
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
  let job: NativeJob<T>;
  try {
    job = start();
  } catch (error) {
    throw fromNativeError(error, context);
  }
  const onAbort = (): void => job.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await job.promise;
  } catch (error) {
    // The promise rejects with a native error (it has a `code`) or with what
    // a progress callback threw, which is passed through unchanged.
    throw isNativeError(error) ? fromNativeError(error, context) : error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

function isNativeError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('ERR_CLAQ_') || code === 'ABORT_ERR');
}
