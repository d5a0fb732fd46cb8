// Abort latency and event-loop responsiveness of quantizeLayer on a
// 4096 x 4096 layer (CLAQ AP 2.1, blocks of 128, 2 threads):
//
//   npm run build && node dist/bench/abort-latency.js [--runs N] [--after COLUMNS]
//
// Each run aborts when the progress events report COLUMNS (default 512)
// columns done. It prints the time from controller.abort() to the promise's
// rejection, the run's wall time, and the longest gap between 1 ms timer
// ticks, which is how long the event loop was blocked. A last run without
// abort gives the full time for comparison. The target for abort latency is
// 100 ms or less.
import { Hessian, quantizeLayer, simdLevel } from '../lib/index.js';

const SIZE = 4096;
const TOKENS = 256;

function hashFill(length: number, salt: number): Float32Array {
  const out = new Float32Array(length);
  for (let k = 0; k < length; k++) out[k] = (Math.imul(k + salt * 0x9e3779b9, 0x85ebca6b) >>> 0) / 2 ** 32 - 0.5;
  return out;
}

function parseArguments(argv: string[]): { runs: number; after: number } {
  let runs = 5;
  let after = 512;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') runs = Number(argv[++i]);
    else if (argv[i] === '--after') after = Number(argv[++i]);
    else throw new Error(`abort-latency: unknown argument '${argv[i]}' (expected --runs N or --after COLUMNS)`);
  }
  if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(after) || after < 1 || after >= SIZE) {
    throw new Error(`abort-latency: --runs must be >= 1 and --after in [1, ${SIZE - 1}]`);
  }
  return { runs, after };
}

interface RunResult {
  latencyMs: number | null;
  longestGapMs: number;
  ticks: number;
  wallMs: number;
  lastDone: number;
}

async function run(weight: { data: Float32Array; rows: number; cols: number }, hessian: Hessian,
  abortAfter: number | null): Promise<RunResult> {
  const controller = new AbortController();
  let abortedAt = 0;
  let lastDone = 0;
  let ticks = 0;
  let lastTick = performance.now();
  let longestGap = 0;
  const interval = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - lastTick);
    lastTick = now;
    ticks++;
  }, 1);

  const start = performance.now();
  let latency: number | null = null;
  try {
    await quantizeLayer(weight, hessian, {
      targetBits: 2.1,
      threads: 2,
      signal: controller.signal,
      onProgress: (event) => {
        if (event.type !== 'columns') return;
        lastDone = event.done;
        if (abortAfter !== null && event.done >= abortAfter && abortedAt === 0) {
          abortedAt = performance.now();
          controller.abort();
        }
      },
    });
  } catch (error) {
    if ((error as Error).name !== 'AbortError') throw error;
    latency = performance.now() - abortedAt;
  } finally {
    clearInterval(interval);
  }
  return { latencyMs: latency, longestGapMs: longestGap, ticks, wallMs: performance.now() - start, lastDone };
}

async function main(): Promise<void> {
  const { runs, after } = parseArguments(process.argv.slice(2));
  console.log(`abort latency: ${SIZE} x ${SIZE}, ${TOKENS} tokens, AP 2.1, 2 threads, SIMD ${simdLevel()}, ` +
    `Node ${process.version}, ${new Date().toISOString()}`);
  const weight = { data: hashFill(SIZE * SIZE, 1), rows: SIZE, cols: SIZE };
  const hessian = new Hessian(SIZE).add(hashFill(TOKENS * SIZE, 2), TOKENS);

  const latencies: number[] = [];
  for (let k = 0; k < runs; k++) {
    const result = await run(weight, hessian, after);
    latencies.push(result.latencyMs ?? NaN);
    console.log(`run ${k + 1}: abort after ${result.lastDone} columns, latency ${result.latencyMs?.toFixed(1)} ms, ` +
      `longest event-loop gap ${result.longestGapMs.toFixed(1)} ms, ${result.ticks} ticks, wall ${result.wallMs.toFixed(0)} ms`);
  }
  const full = await run(weight, hessian, null);
  console.log(`full run: ${full.lastDone} columns, longest event-loop gap ${full.longestGapMs.toFixed(1)} ms, ` +
    `${full.ticks} ticks, wall ${full.wallMs.toFixed(0)} ms`);
  const sorted = [...latencies].sort((a, b) => a - b);
  console.log(`abort latency: median ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} ms, ` +
    `max ${sorted[sorted.length - 1].toFixed(1)} ms (target <= 100 ms)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
