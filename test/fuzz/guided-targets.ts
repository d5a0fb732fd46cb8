// The targets of the coverage-guided fuzzer: the two of targets.ts, and
// three that fail on purpose on any input, so a test can check that the
// harness catches a crash, a hang and a heap exhaustion.

export type TargetRun = (bytes: Uint8Array) => Promise<string>;

const SELF_TESTS: Record<string, TargetRun> = {
  'selftest-crash': async () => {
    throw new TypeError('selftest-crash: a failure planted for the harness test');
  },
  'selftest-hang': async () => {
    for (;;) {
      // Spins until the main thread terminates the worker.
    }
  },
  'selftest-memory': async () => {
    const chunks: number[][] = [];
    for (;;) chunks.push(new Array<number>(1 << 20).fill(chunks.length));
  },
};

/** Returns the run function of a target; targets.ts is imported only for the real targets. */
export async function loadTarget(name: string): Promise<TargetRun> {
  const selfTest = SELF_TESTS[name];
  if (selfTest !== undefined) return selfTest;
  const { TARGETS } = await import('./targets.js');
  const target = (TARGETS as Record<string, { run: TargetRun } | undefined>)[name];
  if (target === undefined) throw new Error(`fuzz: unknown target '${name}'`);
  return target.run;
}
