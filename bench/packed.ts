// Packed low-bit GEMV/GEMM against the float32 matmul on the same panels and
// micro-kernel, a memory-read pass (sum_f32) over the same working set, and
// numpy's float32 GEMM, at every SIMD level and 1 and 2 threads.
//
//   node dist/bench/packed.js [--quick] [--shapes 4096x4096,...] [--configs 2,3,4,ap2.1,ap2.05+or]
//                             [--levels scalar,avx2,avx512] [--threads 1,2] [--tokens 1,8,32,128]
//                             [--clock wall|cpu] [--gemv]
//
// --gemv runs only the GEMV rows of the packed-kernel speed targets: every
// shape, 2, 3 and 4 bits, the best SIMD level, 1 and 2 threads, 1 token.
// The other options still override it.
//
// Each figure is the fastest of several calls. The memory-read pass first
// tries every software prefetch distance in PREFETCH_CANDIDATES and keeps the
// fastest. GEMV rows alternate the kernel and the memory-read pass in rounds
// (GEMV_ROUNDS) and compare the fastest call of each. With --clock cpu a call's time
// is the process CPU time it used divided by its thread count, which leaves
// out the time other processes hold the cores on a shared machine. It
// assumes the threads are busy for the whole call, so it is an estimate.
//
// The working set of every packed and memory case is distinct copies, cycled
// per call, so GEMV figures are memory-bound: 8 times the last-level cache, at
// least 512 MiB and at most 1/8 of the RAM (see workingSetBytes). Writes
// bench/results/packed-<date>.json.
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';

import { PackedLinear, setSimdLevel, simdLevel, supportedSimdLevels } from '../lib/index.js';
import type { SimdLevelName } from '../lib/index.js';
import { native } from '../lib/native.js';
import type { QuantizedParts } from '../lib/quantized-parts.js';

// Returns the size of the largest cache that Linux reports for CPU 0, or 0
// where it reports none.
function lastLevelCacheBytes(): number {
  const units: Record<string, number> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 };
  let largest = 0;
  for (let index = 0; index < 8; index++) {
    let size: string;
    try {
      size = readFileSync(`/sys/devices/system/cpu/cpu0/cache/index${index}/size`, 'utf8').trim();
    } catch {
      break;
    }
    const match = /^(\d+)([KMG]?)$/.exec(size);
    if (match !== null) largest = Math.max(largest, Number(match[1]) * (units[match[2]] ?? 1));
  }
  return largest;
}

// Bytes of distinct copies per case. A set a few times the last-level cache
// still leaves part of it cached. On the Zen 5 reference machine (32 MiB L3),
// a 96 MiB set let the memory pass read 54 GB/s with 1 thread and 135 GB/s
// with 2 on 4 MiB layers. From 512 MiB on it read 42 and 54 GB/s, the same as
// with 1 GiB. On the Intel Xeon (300 MiB L3), 512 MiB let it read 38.9 to 40.8
// GB/s with 2 threads and 2 GiB 34.2 to 36.2, while the GEMV read the same.
// The cap keeps the three sets (layers for 1 and for 2 threads, and the
// memory buffers) within 3/8 of the RAM.
const workingSetBytes = Math.min(Math.max(512 * 2 ** 20, 8 * lastLevelCacheBytes()), totalmem() / 8);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Args {
  quick: boolean;
  shapes: [number, number][];
  configs: string[];
  levels: SimdLevelName[];
  threads: number[];
  tokens: number[];
  clock: 'wall' | 'cpu';
}

function parseArgs(argv: string[]): Args {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const gemv = argv.includes('--gemv');
  const shapes = (value('shapes') ?? (quick ? '4096x4096' : '4096x4096,11008x4096,4096x11008'))
    .split(',').map((s) => s.split('x').map(Number) as [number, number]);
  const supported = supportedSimdLevels();
  let defaultTokens = '1,8,32,128';
  if (gemv) defaultTokens = '1';
  else if (quick) defaultTokens = '1,128';
  return {
    quick,
    shapes,
    configs: (value('configs') ?? (gemv ? '2,3,4' : '2,3,4,ap2.1,ap2.05+or')).split(','),
    levels: (value('levels')?.split(',') as SimdLevelName[] | undefined) ??
      (gemv ? [supported[supported.length - 1]] : supported),
    threads: (value('threads') ?? '1,2').split(',').map(Number),
    tokens: (value('tokens') ?? defaultTokens).split(',').map(Number),
    clock: value('clock') === 'cpu' ? 'cpu' : 'wall',
  };
}

// Deterministic generator (mulberry32) for the sparse parts of the layers.
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}

// Bits per column for a configuration: 2, 3, 4, or AP with {2, 4} at the
// target mean; 'ap2.05+or' adds outlier reservation with the dynamic rule
// (top 10 % of columns keep 1.4 % of their rows at each tail, the rest 0.4 %).
function makeParts(rows: number, cols: number, config: string): QuantizedParts {
  const random = rng(rows * 31 + cols);
  const target = config.startsWith('ap') ? Number.parseFloat(config.slice(2)) : Number(config);
  const high = Math.round(cols * (target - 2) / 2);
  const bitsPerColumn = new Uint8Array(cols).fill(config.startsWith('ap') ? 2 : target);
  if (config.startsWith('ap')) {
    for (let j = 0; j < high; j++) bitsPerColumn[Math.floor(random() * cols)] = 4;
  }
  const permutation = Int32Array.from({ length: cols }, (_, k) => k);
  for (let k = cols - 1; k > 0; k--) {
    const other = Math.floor(random() * (k + 1));
    [permutation[k], permutation[other]] = [permutation[other], permutation[k]];
  }
  const codebookOffsets = new Uint32Array(cols + 1);
  for (let j = 0; j < cols; j++) codebookOffsets[j + 1] = codebookOffsets[j] + (1 << bitsPerColumn[j]);
  const codebooks = new Float32Array(codebookOffsets[cols]);
  for (let j = 0; j < cols; j++) {
    const n = 1 << bitsPerColumn[j];
    for (let c = 0; c < n; c++) codebooks[codebookOffsets[j] + c] = (c - n / 2 + 0.5) / n;
  }
  const codes = randomFillSync(new Uint8Array(rows * cols));
  for (let i = 0; i < codes.length; i++) codes[i] &= (1 << bitsPerColumn[i % cols]) - 1;

  const outlierRows: number[] = [];
  const outlierCols: number[] = [];
  if (config.endsWith('+or')) {
    for (let j = 0; j < cols; j++) {
      const perTail = Math.round(rows * (j % 10 === 0 ? 0.014 : 0.004));
      const picked = new Set<number>();
      while (picked.size < Math.min(rows, 2 * perTail)) picked.add(Math.floor(random() * rows));
      for (const r of [...picked].sort((a, b) => a - b)) {
        outlierRows.push(r);
        outlierCols.push(j);
      }
    }
  }
  return {
    rows, cols, bitsPerColumn, permutation, codes, codebookOffsets, codebooks,
    outlierRows: Int32Array.from(outlierRows),
    outlierCols: Int32Array.from(outlierCols),
    outlierValues: Float32Array.from(outlierRows, (_, k) => (k % 2 ? 8 : -8)),
  };
}

function cpuNowMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

async function minimumMs(fn: () => void, args: Args, threads: number): Promise<number> {
  const bench = new Bench({
    time: args.quick ? 60 : 150, iterations: 3, warmupTime: 10, warmupIterations: 1,
    ...(args.clock === 'cpu' ? { now: cpuNowMs } : {}),
  });
  bench.add('case', fn);
  await bench.run();
  const result = bench.tasks[0].result;
  if (result.state !== 'completed') throw new Error(`benchmark case did not complete: ${result.state}`);
  return args.clock === 'cpu' ? result.latency.min / threads : result.latency.min;
}

function numpyGflops(rows: number, cols: number, tokens: number, clock: 'wall' | 'cpu'): number | null {
  const script = `
import time, numpy as np
rng = np.random.default_rng(0)
x = rng.standard_normal((${tokens}, ${cols}), dtype=np.float32)
w = rng.standard_normal((${rows}, ${cols}), dtype=np.float32)
x @ w.T
clock = time.process_time if '${clock}' == 'cpu' else time.perf_counter
# In cpu mode the process CPU time is divided by the cores OpenBLAS uses.
share = len(__import__('os').sched_getaffinity(0)) if '${clock}' == 'cpu' else 1
best = min((lambda t0: (x @ w.T, clock() - t0)[1])(clock()) for _ in range(7)) / share
print(2 * ${rows} * ${cols} * ${tokens} / best / 1e9)
`;
  // OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, set on the reference machine, slow
  // OpenBLAS down; they are removed for this child only.
  const child = spawnSync('env', ['-u', 'OPENBLAS_CORETYPE', '-u', 'OPENBLAS_L2_SIZE', 'python3', '-c', script],
    { encoding: 'utf8' });
  if (child.status !== 0) {
    console.warn(`numpy baseline skipped: ${child.stderr.trim().split('\n').pop() ?? 'python3 failed'}`);
    return null;
  }
  return Number(child.stdout.trim());
}

interface Row {
  shape: string;
  config: string;
  level: string;
  threads: number;
  tokens: number;
  ms: number;
  weightGBs: number;
  gflops: number;
  ratioToF32: number | null;
  ratioToMemory: number | null;
  /** The memory-read rate the ratio uses (for GEMV rows, measured in rounds alternating with the kernel). */
  memoryGBs: number;
  ratioToNumpy: number | null;
  bitsPerWeight: number;
}

// GEMV rows are memory-bound, and on a shared host the read rate changes from
// second to second. For them the kernel and the memory pass alternate in this
// many rounds, and each side keeps its fastest call, so both meet the same
// conditions.
const GEMV_ROUNDS = 3;

// Software prefetch distances the memory pass tries. The fastest differs by
// CPU (512 B or 1 KiB on the Intel Xeon, where 8 KiB was slower than none),
// and a slow pass would flatter every ratio to it, so each case keeps the
// fastest.
const PREFETCH_CANDIDATES = [0, 512, 1024, 2048, 4096, 8192, 16384];

function printRow(row: Row): void {
  const fmt = (v: number | null, digits = 2) => (v === null ? '-' : v.toFixed(digits));
  console.log([row.shape.padEnd(10), row.config.padEnd(10), row.level.padEnd(7), String(row.threads).padStart(2),
    String(row.tokens).padStart(4), row.ms.toFixed(3).padStart(9), fmt(row.weightGBs).padStart(7),
    fmt(row.gflops, 1).padStart(7), fmt(row.ratioToF32).padStart(6), fmt(row.ratioToMemory).padStart(6),
    fmt(row.ratioToNumpy).padStart(6)].join(' '));
}

async function benchShape(rows: number, cols: number, args: Args, results: Row[], baselines: Record<string, number>) {
  const shape = `${rows}x${cols}`;
  const levels = args.levels.filter((l) => supportedSimdLevels().includes(l));
  const xs = new Map(args.tokens.map((t) => [t, Float32Array.from({ length: t * cols }, (_, i) => Math.sin(i))]));
  const outs = new Map(args.tokens.map((t) => [t, new Float32Array(t * rows)]));
  // The scalar level runs GEMM only at 8 tokens: at 128 one call takes seconds.
  const tokensFor = (level: string) => (level === 'scalar' ? args.tokens.filter((t) => t <= 8) : args.tokens);

  const numpy = args.tokens.includes(128) ? numpyGflops(rows, cols, 128, args.clock) : null;
  if (numpy !== null) baselines[`numpy ${shape} 128`] = numpy;

  // Float32 baseline: the same panels and micro-kernel, float32 weights.
  const weight = Float32Array.from({ length: rows * cols }, (_, i) => Math.cos(i));
  const dense = native.denseF32Pack(weight, rows, cols);
  const f32ms = new Map<string, number>();
  for (const level of levels) {
    setSimdLevel(level);
    for (const threads of args.threads) {
      for (const tokens of tokensFor(level)) {
        const ms = await minimumMs(() => native.denseF32Matmul(dense, xs.get(tokens)!, tokens, outs.get(tokens)!, threads), args, threads);
        f32ms.set(`${level} ${threads} ${tokens}`, ms);
        baselines[`f32 ${shape} ${level} t${threads} n${tokens} GFLOP/s`] = 2 * rows * cols * tokens / ms / 1e6;
      }
    }
  }

  for (const config of args.configs) {
    const parts = makeParts(rows, cols, config);
    const first = PackedLinear.fromParts(parts, { threads: 1 });
    const copies = Math.max(2, Math.ceil(workingSetBytes / first.bytes));
    // The copies also time packing (PackedLinear.fromParts, on this thread).
    let packMs = Infinity;
    const layers = [first, ...Array.from({ length: copies - 1 }, () => {
      const start = performance.now();
      const layer = PackedLinear.fromParts(parts, { threads: 1 });
      packMs = Math.min(packMs, performance.now() - start);
      return layer;
    })];
    baselines[`pack ${shape} ${config} ms (fastest of ${copies - 1})`] = packMs;
    const byThreads = new Map(args.threads.map((threads) => [threads, layers.map((l) => l === first && threads === 1 ? l
      : PackedLinear.fromParts(parts, { threads }))]));
    layers.forEach((l) => { if (!byThreads.get(1)?.includes(l)) l.release(); });

    // Memory-read baseline over the same number of buffers of the same size,
    // with huge pages as the packed layers have, asked for before the fill.
    const buffers = Array.from({ length: copies }, () => {
      const buffer = new Float32Array(Math.ceil(first.bytes / 4));
      native.adviseHugePages(buffer);
      return buffer.fill(1);
    });
    let next = 0;
    const prefetch = new Map<number, number>();
    const readMemory = (threads: number, prefetchBytes = prefetch.get(threads)) => () => {
      native.sumF32(buffers[next++ % copies], threads, prefetchBytes);
    };
    const memoryGBs = new Map<number, number>();
    for (const threads of args.threads) {
      setSimdLevel(levels[levels.length - 1]);
      let best = { ms: Infinity, prefetchBytes: 0 };
      for (const prefetchBytes of PREFETCH_CANDIDATES) {
        const ms = await minimumMs(readMemory(threads, prefetchBytes), args, threads);
        if (ms < best.ms) best = { ms, prefetchBytes };
      }
      prefetch.set(threads, best.prefetchBytes);
      memoryGBs.set(threads, first.bytes / best.ms / 1e6);
      baselines[`memory ${shape} ${config} t${threads} GB/s`] = first.bytes / best.ms / 1e6;
      baselines[`memory ${shape} ${config} t${threads} prefetch bytes`] = best.prefetchBytes;
    }

    for (const level of levels) {
      setSimdLevel(level);
      for (const threads of args.threads) {
        const set = byThreads.get(threads)!;
        for (const tokens of tokensFor(level)) {
          let i = 0;
          const x = xs.get(tokens)!;
          const out = outs.get(tokens)!;
          const kernel = () => { set[i++ % set.length].matmul(x, tokens, out); };
          let ms = Infinity;
          let memoryRate = memoryGBs.get(threads)!;
          if (tokens === 1) {
            let memoryMs = Infinity;
            for (let round = 0; round < GEMV_ROUNDS; round++) {
              setSimdLevel(levels[levels.length - 1]);
              memoryMs = Math.min(memoryMs, await minimumMs(readMemory(threads), args, threads));
              setSimdLevel(level);
              ms = Math.min(ms, await minimumMs(kernel, args, threads));
            }
            memoryRate = first.bytes / memoryMs / 1e6;
          } else {
            ms = await minimumMs(kernel, args, threads);
          }
          const f32 = f32ms.get(`${level} ${threads} ${tokens}`);
          const gflops = 2 * rows * cols * tokens / ms / 1e6;
          const row: Row = {
            shape, config, level, threads, tokens, ms,
            weightGBs: first.bytes / ms / 1e6,
            gflops,
            ratioToF32: f32 === undefined ? null : f32 / ms,
            ratioToMemory: (first.bytes / ms / 1e6) / memoryRate,
            memoryGBs: memoryRate,
            ratioToNumpy: numpy !== null && tokens === 128 ? gflops / numpy : null,
            bitsPerWeight: first.bitsPerWeight,
          };
          results.push(row);
          printRow(row);
        }
      }
    }
    for (const set of byThreads.values()) set.forEach((l) => l.release());
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const original = simdLevel();
  console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} logical cores)`);
  console.log(`SIMD level: ${original} (benchmarked: ${args.levels.join(', ')})`);
  console.log(`Node ${process.version}, claq addon ${version}`);
  console.log(`working set per case >= ${Math.round(workingSetBytes / 2 ** 20)} MiB of distinct packed layers ` +
    `(last-level cache ${Math.round(lastLevelCacheBytes() / 2 ** 20)} MiB); clock: ${args.clock}`);
  console.log('weight GB/s = packed bytes / time; ratios: float32 time / packed time, packed GB/s / memory-read GB/s,');
  console.log('packed GFLOP/s / numpy float32 GFLOP/s (128 tokens)\n');
  console.log('shape      config     level   th  tok        ms    GB/s  GFLOP/s  xf32   xmem  xnumpy');

  const results: Row[] = [];
  const baselines: Record<string, number> = {};
  for (const [rows, cols] of args.shapes) await benchShape(rows, cols, args, results, baselines);
  setSimdLevel(original);

  console.log('\nbaselines:');
  for (const [name, value] of Object.entries(baselines)) {
    console.log(`  ${name}: ${Number.isInteger(value) ? value : value.toFixed(2)}`);
  }
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString();
  const file = join(dir, `packed-${args.clock}-${date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({
    date, cpu: cpus()[0]?.model, node: process.version, addon: version, args, workingSetBytes, baselines, results,
  }, null, 2));
  console.log(`\nwrote ${file}`);
}

await main();
