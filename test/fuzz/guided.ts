// Coverage-guided fuzzing of the safetensors header parser and the claq
// checkpoint loader:
//
//   node dist/test/fuzz/guided.js [--seconds N] [--seed S] [--update-corpus]
//                                 [--crash-dir DIR] [--hang-seconds H] [header] [claq]
//   node dist/test/fuzz/guided.js --replay FILE (header|claq)
//
// Each target runs N seconds (default 60) in a worker thread. Inputs start
// from fuzz/corpus/<seeds>/ and fuzz/coverage-corpus/<target>/, are mutated
// (test/fuzz/mutate.ts), and are kept when V8 block coverage of
// lib/safetensors/ and lib/checkpoint/ shows a block or hit-count bucket not
// seen before (test/fuzz/block-coverage.ts). An input fails when the target
// throws anything but its expected SafetensorsError (a FuzzFailure from a
// broken invariant included), runs longer than H seconds (default 5), exhausts the
// worker's heap limit, or grows ArrayBuffer memory by more than
// MAX_ARRAY_BUFFER_GROWTH. A failing input is written to the crash folder
// (default fuzz/crashes/) and printed as base64, and the exit code is 1.
// --update-corpus adds the kept inputs that ran a block for the first time to
// fuzz/coverage-corpus/<target>/.
// The targets selftest-crash, selftest-hang and selftest-memory fail on
// purpose, so a test can check that each kind of failure is caught.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import { MAX_INPUT_BYTES } from './mutate.js';
import { loadTarget } from './guided-targets.js';
import { SHARED_HEADER_BYTES } from './guided-protocol.js';
import type { WorkerInput, WorkerMessage } from './guided-protocol.js';

const MAX_HEAP_MB = 512;
const MAX_ARRAY_BUFFER_GROWTH = 256 * 2 ** 20;

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TARGET_SEEDS: Record<string, string> = { header: 'safetensors', claq: 'claq' };
const SELF_TESTS = ['selftest-crash', 'selftest-hang', 'selftest-memory'];

interface Arguments {
  seconds: number;
  seed: number;
  updateCorpus: boolean;
  crashDir: string;
  hangSeconds: number;
  replay: string | null;
  targets: string[];
}

function parseArguments(argv: string[]): Arguments {
  const parsed: Arguments = {
    seconds: 60, seed: Date.now() % 2 ** 31, updateCorpus: false, crashDir: join(ROOT, 'fuzz', 'crashes'),
    hangSeconds: 5, replay: null, targets: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--seconds') parsed.seconds = Number(argv[++i]);
    else if (arg === '--seed') parsed.seed = Number(argv[++i]);
    else if (arg === '--update-corpus') parsed.updateCorpus = true;
    else if (arg === '--crash-dir') parsed.crashDir = argv[++i];
    else if (arg === '--hang-seconds') parsed.hangSeconds = Number(argv[++i]);
    else if (arg === '--replay') parsed.replay = argv[++i];
    else if (Object.prototype.hasOwnProperty.call(TARGET_SEEDS, arg) || SELF_TESTS.includes(arg)) parsed.targets.push(arg);
    else throw new Error(`fuzz: unknown argument '${arg}' (see the usage at the top of test/fuzz/guided.ts)`);
  }
  if (!(parsed.seconds > 0) || !(parsed.hangSeconds > 0) || !Number.isInteger(parsed.seed)) {
    throw new Error('fuzz: --seconds and --hang-seconds must be positive and --seed an integer');
  }
  if (parsed.targets.length === 0) parsed.targets = Object.keys(TARGET_SEEDS);
  return parsed;
}

function readFolder(folder: string): Uint8Array[] {
  let names: string[];
  try {
    names = readdirSync(folder).sort();
  } catch {
    return [];
  }
  return names.map((name) => new Uint8Array(readFileSync(join(folder, name))));
}

function contentName(input: Uint8Array): string {
  return createHash('sha256').update(input).digest('hex').slice(0, 16);
}

function saveFailure(crashDir: string, target: string, kind: string, input: Uint8Array, error: string): void {
  mkdirSync(crashDir, { recursive: true });
  const path = join(crashDir, `${target}-${kind}-${contentName(input)}.bin`);
  writeFileSync(path, input);
  const base64 = input.length <= 4096 ? `\ninput (base64): ${Buffer.from(input).toString('base64')}` : '';
  console.error(`fuzz ${target}: ${kind.toUpperCase()}: ${error}\nsaved ${input.length} bytes to ${path}${base64}\n` +
    `replay: node dist/test/fuzz/guided.js --replay ${path} ${target}`);
}

// Runs one target in a worker and resolves with whether it passed.
function fuzzTarget(target: string, options: Arguments): Promise<boolean> {
  const seeds = [
    ...readFolder(join(ROOT, 'fuzz', 'corpus', TARGET_SEEDS[target] ?? 'safetensors')),
    ...readFolder(join(ROOT, 'fuzz', 'coverage-corpus', target)),
  ];
  const shared = new SharedArrayBuffer(SHARED_HEADER_BYTES + MAX_INPUT_BYTES);
  const state = new Int32Array(shared, 0, 2);
  const startTime = new Float64Array(shared, 8, 1);
  const currentInput = (): Uint8Array => new Uint8Array(shared, SHARED_HEADER_BYTES, state[1]).slice();
  const workerData: WorkerInput = {
    target, seconds: options.seconds, seed: options.seed, seeds, shared, maxArrayBufferGrowth: MAX_ARRAY_BUFFER_GROWTH,
  };
  const worker = new Worker(new URL('./guided-worker.js', import.meta.url), {
    workerData, resourceLimits: { maxOldGenerationSizeMb: MAX_HEAP_MB },
  });
  const corpusDir = join(ROOT, 'fuzz', 'coverage-corpus', target);
  let keptInputs = 0;

  return new Promise((resolve) => {
    let settled = false;
    const finish = (passed: boolean): void => {
      if (settled) return;
      settled = true;
      clearInterval(watch);
      void worker.terminate();
      resolve(passed);
    };

    const watch = setInterval(() => {
      const running = Atomics.load(state, 0) === 1;
      const seconds = (Date.now() - startTime[0]) / 1000;
      if (running && seconds > options.hangSeconds) {
        saveFailure(options.crashDir, target, 'hang', currentInput(), `one input ran for more than ${options.hangSeconds} s`);
        finish(false);
      }
    }, 250);

    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'new') {
        keptInputs++;
        // Only inputs that run new blocks go to the repository's corpus, to
        // keep it small; the ones with new hit counts only stay in memory.
        if (options.updateCorpus && message.newBlocks > 0) {
          mkdirSync(corpusDir, { recursive: true });
          writeFileSync(join(corpusDir, `${contentName(message.input)}.bin`), message.input);
        }
      } else if (message.type === 'failure') {
        saveFailure(options.crashDir, target, message.kind, message.input, message.error);
        finish(false);
      } else {
        const outcomes = Object.entries(message.outcomes).sort((a, b) => b[1] - a[1])
          .map(([outcome, count]) => `${outcome} ${count}`).join(', ');
        console.log(`fuzz ${target}: ${message.runs} inputs in ${options.seconds} s (seed ${options.seed}), ` +
          `${seeds.length} seeds, ${keptInputs} inputs kept for new coverage, ${message.covered} of ${message.blocks} known blocks run, ` +
          `${message.features} features: no failure\n  outcomes: ${outcomes}`);
        finish(true);
      }
    });
    worker.on('error', (error: Error & { code?: string }) => {
      const kind = error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory' : 'crash';
      saveFailure(options.crashDir, target, kind, currentInput(), `${error.code ?? error.name}: ${error.message}`);
      finish(false);
    });
    worker.on('exit', (code) => {
      if (!settled) {
        saveFailure(options.crashDir, target, 'crash', currentInput(), `the worker exited with code ${code}`);
        finish(false);
      }
    });
  });
}

async function replay(path: string, target: string): Promise<number> {
  const run = await loadTarget(target);
  const outcome = await run(new Uint8Array(readFileSync(path)));
  console.log(`fuzz ${target}: ${path}: ${outcome}`);
  return 0;
}

async function main(): Promise<number> {
  const options = parseArguments(process.argv.slice(2));
  if (options.replay !== null) return replay(options.replay, options.targets[0]);
  let passed = true;
  for (const target of options.targets) passed = (await fuzzTarget(target, options)) && passed;
  return passed ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
