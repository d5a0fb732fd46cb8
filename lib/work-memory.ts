import { native } from './native.js';

/**
 * How long the engine keeps freed work buffers after the last quantization
 * ends. Quantizing a model runs the same shapes layer after layer, and a
 * reused buffer skips the page faults of fresh memory (about 60 ms of a
 * 0.5 s 4096 × 4096 layer on the benchmark machine).
 */
export const WORK_MEMORY_IDLE_MS = 10_000;

let timer: NodeJS.Timeout | undefined;

/**
 * Frees the work buffers that the engine keeps for the next quantization
 * (at most 768 MiB). They are freed anyway {@link WORK_MEMORY_IDLE_MS}
 * after the last quantization ends; call this to free them at once. The
 * `codes` array of a quantized layer joins these buffers when it is garbage
 * collected, unless that happens after this release and before the next
 * quantization: then its memory is freed at once.
 *
 * @returns the bytes freed.
 */
export function releaseWorkMemory(): number {
  if (timer !== undefined) clearTimeout(timer);
  timer = undefined;
  return native.trimWorkMemory();
}

/** Returns the bytes of freed work buffers that the engine keeps for reuse now. */
export function cachedWorkMemory(): number {
  return native.cachedWorkMemory();
}

/**
 * Restarts the idle countdown after a quantization ends. The timer does not
 * keep the process alive.
 */
export function scheduleWorkMemoryRelease(): void {
  if (timer !== undefined) clearTimeout(timer);
  timer = setTimeout(() => {
    timer = undefined;
    native.trimWorkMemory();
  }, WORK_MEMORY_IDLE_MS);
  timer.unref();
}
