// The fuzzing loop of one target, run in a worker thread by guided.ts so
// that the main thread can stop it on a hang (Worker.terminate interrupts
// running JavaScript) and see it die on a heap limit. Before each input the
// worker copies it into shared memory and marks the start time, so the main
// thread can tell which input hung or ran out of memory.
import { parentPort, workerData } from 'node:worker_threads';

import { BlockCoverage } from './block-coverage.js';
import { SHARED_HEADER_BYTES } from './guided-protocol.js';
import type { WorkerInput, WorkerMessage } from './guided-protocol.js';
import { loadTarget } from './guided-targets.js';
import { MAX_INPUT_BYTES, Random, mutate } from './mutate.js';

// The modules whose blocks count as coverage: the parser and the loader.
const COVERED_MODULES = ['/lib/safetensors/', '/lib/checkpoint/'];

async function main(): Promise<void> {
  const input = workerData as WorkerInput;
  const port = parentPort;
  if (port === null) throw new Error('guided-worker: must run in a worker thread');
  const state = new Int32Array(input.shared, 0, 2);
  const startTime = new Float64Array(input.shared, 8, 1);
  const bytes = new Uint8Array(input.shared, SHARED_HEADER_BYTES, MAX_INPUT_BYTES);

  const coverage = new BlockCoverage(COVERED_MODULES);
  await coverage.start();
  const run = await loadTarget(input.target);
  await coverage.reset();

  const random = new Random(input.seed);
  const corpus: Uint8Array[] = [];
  const outcomes: Record<string, number> = {};
  const baseline = process.memoryUsage().arrayBuffers;
  let runs = 0;

  // Runs one input under the shared-memory watch; false when it failed.
  const execute = async (candidate: Uint8Array): Promise<boolean> => {
    bytes.set(candidate);
    state[1] = candidate.length;
    startTime[0] = Date.now();
    Atomics.store(state, 0, 1);
    let outcome: string;
    try {
      outcome = await run(candidate);
    } catch (error) {
      port.postMessage({ type: 'failure', kind: 'crash', input: candidate, error: describe(error) } satisfies WorkerMessage);
      return false;
    } finally {
      Atomics.store(state, 0, 0);
    }
    runs++;
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;

    const growth = process.memoryUsage().arrayBuffers - baseline;
    if (growth > input.maxArrayBufferGrowth) {
      port.postMessage({
        type: 'failure', kind: 'memory', input: candidate,
        error: `ArrayBuffer memory grew by ${growth} bytes after a ${candidate.length}-byte input`,
      } satisfies WorkerMessage);
      return false;
    }
    const added = await coverage.takeNewFeatures();
    if (added.features > 0) {
      corpus.push(candidate);
      port.postMessage({ type: 'new', input: candidate, newBlocks: added.blocks } satisfies WorkerMessage);
    }
    return true;
  };

  // Seeds first, as they are, so the queue starts with every seed that adds
  // coverage; the seeds stay available for splicing either way.
  for (const seed of input.seeds) {
    if (!await execute(seed)) return;
  }
  if (corpus.length === 0) corpus.push(...input.seeds);

  const deadline = Date.now() + input.seconds * 1000;
  while (Date.now() < deadline) {
    // Newer entries found new blocks most recently; give them half the picks.
    const parent = random.below(2) === 0 ? corpus[corpus.length - 1 - random.below(Math.min(8, corpus.length))]
      : random.pick(corpus);
    if (!await execute(mutate(parent, random, corpus))) return;
  }

  const { blocks, covered, features } = coverage.size;
  await coverage.stop();
  port.postMessage({ type: 'done', runs, corpus: corpus.length, blocks, covered, features, outcomes } satisfies WorkerMessage);
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
}

main().catch((error: unknown) => {
  // A failure of the harness itself, not of an input.
  console.error(error);
  process.exit(2);
});
