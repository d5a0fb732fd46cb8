// Dense linear algebra against numpy (OpenBLAS) in one run: float32 GEMM at
// 4096^3 and at the GPTQ trailing-update shape, Hessian accumulation (x^T x),
// and the inverse factor U of a 4096 x 4096 H. Prints GFLOP/s and the ratio to
// numpy, and writes bench/results/linalg-<date>.json.
//
//   npm run bench:linalg [-- --threads 2 --repeats 5]
//
// numpy runs in a python3 child process without OPENBLAS_CORETYPE and
// OPENBLAS_L2_SIZE in its environment: on some machines these pin OpenBLAS
// to a slower kernel, and the comparison is with OpenBLAS at its best.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { Bench } from 'tinybench';

import { native } from '../lib/native.js';

const { values: args } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    repeats: { type: 'string', default: '5' },
  },
});
const threads = Number(args.threads);
const repeats = Number(args.repeats);
if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`--threads must be a positive integer, got ${args.threads}`);
if (!Number.isInteger(repeats) || repeats < 1) throw new RangeError(`--repeats must be a positive integer, got ${args.repeats}`);

const N = 4096;
const TOKENS = 2048;
const BLOCK = 128;

// Useful floating-point operations of each measured call; numpy's x.T @ x is
// counted like ours (2 * tokens * cols^2) although we compute only half of it.
const flops = {
  gemm: 2 * N ** 3,
  trailing: 2 * N * N * BLOCK,
  hessian: 2 * TOKENS * N * N,
  inverseFactor: (2 * N ** 3) / 3,
};

interface NumpyTimes {
  version: string;
  blas: string;
  matmul: number;
  xtx: number;
  trailing: number;
  inverseFactor: number;
}

// Times numpy in a child process: the best of `repeats` runs of each product.
function timeNumpy(): NumpyTimes {
  const script = `
import json, time, numpy as np
n, tokens, block, repeats = ${N}, ${TOKENS}, ${BLOCK}, ${repeats}
rng = np.random.default_rng(1)
a = rng.standard_normal((n, n), dtype=np.float32)
b = rng.standard_normal((n, n), dtype=np.float32)
x = rng.standard_normal((tokens, n), dtype=np.float32)
u = rng.standard_normal((block, n), dtype=np.float32)
e = rng.standard_normal((block, n), dtype=np.float32)
h = (x.T @ x) * (2.0 / tokens)
h += np.eye(n, dtype=np.float32) * (0.01 * float(np.mean(np.diag(h))))
def best(fn):
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return min(times)
def gptq_inverse_factor():
    l = np.linalg.cholesky(h)
    linv = np.linalg.inv(l)
    return np.linalg.cholesky(linv.T @ linv).T
try:
    blas = np.show_config(mode='dicts')['Build Dependencies']['blas']['name']
except Exception:
    blas = 'unknown'
print(json.dumps({
    'version': np.__version__, 'blas': blas,
    'matmul': best(lambda: a @ b),
    'xtx': best(lambda: x.T @ x),
    'trailing': best(lambda: u.T @ e),
    'inverseFactor': best(gptq_inverse_factor),
}))
`;
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const output = execFileSync('python3', ['-c', script], { env, encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(output) as NumpyTimes;
}

function randomFloats(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; ++i) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

// H = (2 / tokens) x^T x + 1 % damping, built with our own Hessian path.
function dampedHessian(x: Float32Array): Float32Array {
  const c = new Float32Array(N * N);
  native.benchGemm({ transA: true, transB: false, m: N, n: N, k: TOKENS, a: x, b: x, c, threads });
  let meanDiagonal = 0;
  for (let i = 0; i < N; ++i) meanDiagonal += c[i * N + i] / N;
  for (let i = 0; i < N * N; ++i) c[i] *= 2 / TOKENS;
  for (let i = 0; i < N; ++i) c[i * N + i] += 0.01 * (2 / TOKENS) * meanDiagonal;
  return c;
}

async function timeOurs(): Promise<Record<keyof typeof flops, number>> {
  const a = randomFloats(N * N, 1);
  const b = randomFloats(N * N, 2);
  const c = new Float32Array(N * N);
  const x = randomFloats(TOKENS * N, 3);
  const u = randomFloats(BLOCK * N, 4);
  const err = randomFloats(BLOCK * N, 5);
  const h = dampedHessian(x);
  const factor = new Float32Array(N * N);

  const bench = new Bench({ iterations: repeats, time: 0, warmupIterations: 1, warmupTime: 0 });
  bench
    .add('gemm', () => native.benchGemm({ transA: false, transB: false, m: N, n: N, k: N, a, b, c, threads }))
    .add('trailing', () =>
      native.benchGemm({ transA: true, transB: false, m: N, n: N, k: BLOCK, a: u, b: err, c, threads }),
    )
    .add('hessian', () => {
      native.benchHessian({ activations: x, tokens: TOKENS, cols: N, threads });
    })
    .add('inverseFactor', () => native.benchInverseFactor({ h, n: N, u: factor, threads }));
  await bench.run();

  const seconds: Record<string, number> = {};
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== 'completed') throw new Error(`benchmark task ${task.name} did not complete: ${result.state}`);
    seconds[task.name] = result.latency.min / 1000;
  }
  return seconds as Record<keyof typeof flops, number>;
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`CPU: ${cpu} (${cpus().length} logical cores)`);
console.log(`SIMD level: ${native.simdLevel()}`);
console.log(`Node: ${process.version}, threads: ${threads}, repeats: ${repeats} (best of)`);

const numpy = timeNumpy();
console.log(`numpy ${numpy.version} (${numpy.blas})`);
const ours = await timeOurs();

const numpySeconds: Record<keyof typeof flops, number> = {
  gemm: numpy.matmul,
  trailing: numpy.trailing,
  hessian: numpy.xtx,
  inverseFactor: numpy.inverseFactor,
};
const rows = (Object.keys(flops) as (keyof typeof flops)[]).map((name) => {
  const ourGflops = flops[name] / ours[name] / 1e9;
  const numpyGflops = flops[name] / numpySeconds[name] / 1e9;
  return {
    name,
    oursSeconds: ours[name],
    oursGflops: ourGflops,
    numpySeconds: numpySeconds[name],
    numpyGflops,
    ratio: ourGflops / numpyGflops,
  };
});
console.table(
  rows.map((r) => ({
    operation: r.name,
    'ours s': r.oursSeconds.toFixed(4),
    'ours GFLOP/s': r.oursGflops.toFixed(1),
    'numpy s': r.numpySeconds.toFixed(4),
    'numpy GFLOP/s': r.numpyGflops.toFixed(1),
    'ours / numpy': r.ratio.toFixed(2),
  })),
);
console.log(
  'numpy inverseFactor is GPTQ\'s route (cholesky, inverse, cholesky) counted as 2n^3/3 like ours; ' +
    'hessian counts 2 * tokens * cols^2 for both.',
);

const date = new Date().toISOString();
const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `linalg-${date.slice(0, 19).replace(/:/g, '-')}.json`);
writeFileSync(
  file,
  JSON.stringify({ date, cpu, simdLevel: native.simdLevel(), node: process.version, threads, repeats, numpy, rows }, null, 2) + '\n',
);
console.log(`results written to ${file}`);
