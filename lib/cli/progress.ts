// Progress output for long CLI commands: a bar redrawn in place on a
// terminal, plain lines at most every few seconds otherwise (logs, CI).

export interface ProgressReporter {
  /** Reports `done` of `total` units, with a short status after the bar. */
  update(done: number, total: number, status?: string): void;
  /** Ends the bar's line (on a terminal) so later output starts clean. */
  finish(): void;
}

const BAR_WIDTH = 30;
const LINE_INTERVAL_MS = 5000;

/**
 * Creates a reporter writing to `stream` (stderr by default, so stdout stays
 * for results). `label` starts every line.
 */
export function createProgress(label: string, stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  const started = Date.now();
  let lastLine = 0;
  let drawn = false;

  const describe = (done: number, total: number, status: string): string => {
    const seconds = (Date.now() - started) / 1000;
    const percent = total > 0 ? (100 * done) / total : 100;
    return `${done}/${total} (${percent.toFixed(0)}%) ${seconds.toFixed(1)} s${status ? `  ${status}` : ''}`;
  };

  return {
    update(done, total, status = '') {
      if (stream.isTTY) {
        const filled = total > 0 ? Math.round((BAR_WIDTH * done) / total) : BAR_WIDTH;
        const bar = '#'.repeat(filled) + '-'.repeat(BAR_WIDTH - filled);
        stream.write(`\r${label} [${bar}] ${describe(done, total, status)}\x1b[K`);
        drawn = true;
        return;
      }
      const now = Date.now();
      if (done < total && now - lastLine < LINE_INTERVAL_MS) return;
      lastLine = now;
      stream.write(`${label} ${describe(done, total, status)}\n`);
    },
    finish() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}

/**
 * Runs `body` with an AbortSignal that fires on Ctrl-C (SIGINT), so a long
 * command stops cleanly; the handler is removed afterwards.
 */
export async function withInterrupt<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onInterrupt = (): void => controller.abort();
  process.once('SIGINT', onInterrupt);
  try {
    return await body(controller.signal);
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}
