// Runs the fuzz targets for a bounded time each:
//
//   node dist/test/fuzz/run.js [--seconds N] [--seed S] [header] [claq]
//
// Each target gets N seconds (default 60) of inputs from fast-check: corpus
// seeds from fuzz/corpus/ with mutations, generated headers, random bytes.
// A failure prints the shrunk input as base64 and the seed to replay it, and
// the exit code is 1. An input that takes more than HANG_SECONDS counts as a
// hang and fails too.
import fc from 'fast-check';

import { TARGETS, type TargetName, inputsFor, loadCorpus } from './targets.js';

const HANG_SECONDS = 5;

function parseArguments(argv: string[]): { seconds: number; seed: number; targets: TargetName[] } {
  let seconds = 60;
  let seed = Date.now() % 2 ** 31;
  const targets: TargetName[] = [];
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i];
    if (arg === '--seconds') seconds = Number(argv[++i]);
    else if (arg === '--seed') seed = Number(argv[++i]);
    else if (Object.prototype.hasOwnProperty.call(TARGETS, arg)) targets.push(arg as TargetName);
    else throw new Error(`fuzz: unknown argument '${arg}' (expected --seconds N, --seed S, header or claq)`);
  }
  if (!(seconds > 0) || !Number.isInteger(seed)) throw new Error('fuzz: --seconds must be positive and --seed an integer');
  return { seconds, seed, targets: targets.length > 0 ? targets : (Object.keys(TARGETS) as TargetName[]) };
}

async function fuzzTarget(target: TargetName, seconds: number, seed: number): Promise<boolean> {
  const { corpus, run } = TARGETS[target];
  const seeds = loadCorpus(corpus);
  let runs = 0;
  let slowest = 0;
  const outcomes = new Map<string, number>();

  // Every seed as it is first, so a regression on a seed needs no luck.
  for (const bytes of seeds) await run(bytes);

  const property = fc.asyncProperty(inputsFor(seeds), async (bytes) => {
    const start = performance.now();
    const outcome = await run(bytes);
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    const elapsed = (performance.now() - start) / 1000;
    runs++;
    slowest = Math.max(slowest, elapsed);
    if (elapsed > HANG_SECONDS) throw new Error(`hang: one input took ${elapsed.toFixed(1)} s`);
  });
  const details = await fc.check(property, {
    seed,
    numRuns: Number.MAX_SAFE_INTEGER,
    interruptAfterTimeLimit: seconds * 1000,
    markInterruptAsFailure: false,
  });
  const summary = `fuzz ${target}: ${runs} inputs in ${seconds} s from ${seeds.length} seeds (seed ${seed}), ` +
    `slowest ${(slowest * 1000).toFixed(1)} ms`;
  if (!details.failed) {
    const counts = [...outcomes].sort((a, b) => b[1] - a[1]).map(([outcome, count]) => `${outcome} ${count}`);
    console.log(`${summary}: no failure\n  outcomes: ${counts.join(', ')}`);
    return true;
  }
  const [input] = details.counterexample ?? [new Uint8Array(0)];
  console.error(`${summary}: FAILED\n${String(details.errorInstance)}\n` +
    `input (base64): ${Buffer.from(input).toString('base64')}\nreplay: --seed ${seed} ${target}`);
  return false;
}

async function main(): Promise<number> {
  const { seconds, seed, targets } = parseArguments(process.argv.slice(2));
  let ok = true;
  for (const target of targets) ok = (await fuzzTarget(target, seconds, seed)) && ok;
  return ok ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
