// Dense linear algebra against numpy (OpenBLAS) in one run: float32 GEMM at
// 4096^3 and at the GPTQ trailing-update shape, Hessian accumulation (x^T x),
// Cholesky, and the inverse factor U of a 4096 x 4096 H. It prints GFLOP/s
// and the ratio to numpy, and writes bench/results/linalg-<date>.json.
//
//   npm run bench:linalg [-- --threads 2 --repeats 5]
//
// numpy runs in a python3 child process without OPENBLAS_CORETYPE and
// OPENBLAS_L2_SIZE in its environment: on some machines these pin OpenBLAS
// to a slower kernel, and the comparison is with OpenBLAS at its best.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
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

// Useful floating-point operations of each measured call. numpy's x.T @ x
// is counted like ours (2 * tokens * cols^2) although ours computes only the
// lower half. The inverse factor counts 2n^3/3 for both sides, so its ratio
// is a ratio of times for the same result.
const flops = {
  gemm: 2 * N ** 3,
  trailing: 2 * N * N * BLOCK,
  hessian: 2 * TOKENS * N * N,
  cholesky: N ** 3 / 3,
  inverseFactor: (2 * N ** 3) / 3,
};
type Operation = keyof typeof flops;

interface NumpyTimes {
  version: string;
  blas: string;
  lapack: string;
  seconds: Record<Operation, number>;
}

// Times numpy (and scipy's float32 LAPACK, when scipy is installed) in a
// child process: the best of `repeats` runs of each operation.
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
h = (x.T @ x) * np.float32(2.0 / tokens)
h += np.eye(n, dtype=np.float32) * np.float32(0.01 * float(np.mean(np.diag(h))))
def best(fn):
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return min(times)
try:
    from scipy.linalg import lapack
    import scipy
    lapack_name = 'scipy %s float32 LAPACK: spotrf; GPTQ route spotrf + spotri + spotrf' % scipy.__version__
    def cholesky():
        lapack.spotrf(h, lower=1, overwrite_a=0)
    def gptq_inverse_factor():
        l, _ = lapack.spotrf(h, lower=1)
        hinv, _ = lapack.spotri(l, lower=1, overwrite_c=1)
        lapack.spotrf(hinv, lower=0, overwrite_a=1)
except ImportError:
    lapack_name = 'numpy.linalg (scipy missing): cholesky; GPTQ route cholesky + inv + matmul + cholesky'
    def cholesky():
        np.linalg.cholesky(h)
    def gptq_inverse_factor():
        linv = np.linalg.inv(np.linalg.cholesky(h))
        np.linalg.cholesky(linv.T @ linv)
try:
    blas = np.show_config(mode='dicts')['Build Dependencies']['blas']['name']
except Exception:
    blas = 'unknown'
print(json.dumps({
    'version': np.__version__, 'blas': blas, 'lapack': lapack_name,
    'seconds': {
        'gemm': best(lambda: a @ b),
        'trailing': best(lambda: u.T @ e),
        'hessian': best(lambda: x.T @ x),
        'cholesky': best(cholesky),
        'inverseFactor': best(gptq_inverse_factor),
    },
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

// H = (2 / tokens) x^T x + 1 % damping, full and symmetric.
function dampedHessian(x: Float32Array): Float32Array {
  const c = new Float32Array(N * N);
  native.benchGemm({ transA: true, transB: false, m: N, n: N, k: TOKENS, a: x, b: x, c, threads });
  let meanDiagonal = 0;
  for (let i = 0; i < N; ++i) meanDiagonal += c[i * N + i] / N;
  for (let i = 0; i < N * N; ++i) c[i] *= 2 / TOKENS;
  for (let i = 0; i < N; ++i) c[i * N + i] += 0.01 * (2 / TOKENS) * meanDiagonal;
  return c;
}

// Times our kernels with tinybench: the best of `repeats` runs of each.
async function timeOurs(): Promise<Record<Operation, number>> {
  const a = randomFloats(N * N, 1);
  const b = randomFloats(N * N, 2);
  const c = new Float32Array(N * N);
  const x = randomFloats(TOKENS * N, 3);
  const u = randomFloats(BLOCK * N, 4);
  const err = randomFloats(BLOCK * N, 5);
  const h = dampedHessian(x);
  const work = new Float32Array(N * N);

  const bench = new Bench({ iterations: repeats, time: 0, warmupIterations: 1, warmupTime: 0 });
  bench
    .add('gemm', () => native.benchGemm({ transA: false, transB: false, m: N, n: N, k: N, a, b, c, threads }))
    .add('trailing', () =>
      native.benchGemm({ transA: true, transB: false, m: N, n: N, k: BLOCK, a: u, b: err, c, threads }),
    )
    .add('hessian', () => {
      native.benchHessian({ activations: x, tokens: TOKENS, cols: N, threads });
    })
    .add('cholesky', () => native.benchCholesky({ a: work, n: N, threads }), {
      beforeEach: () => {
        work.set(h);
      },
    })
    .add('inverseFactor', () => native.benchInverseFactor({ h, n: N, u: work, threads }));
  await bench.run();

  const seconds: Partial<Record<Operation, number>> = {};
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== 'completed') throw new Error(`benchmark task ${task.name} did not complete: ${result.state}`);
    seconds[task.name as Operation] = result.latency.min / 1000;
  }
  return seconds as Record<Operation, number>;
}

function minimumTimes(first: Record<Operation, number>, second: Record<Operation, number>): Record<Operation, number> {
  const out = { ...first };
  for (const name of Object.keys(flops) as Operation[]) out[name] = Math.min(first[name], second[name]);
  return out;
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`CPU: ${cpu} (${cpus().length} logical cores)`);
console.log(`SIMD level: ${native.simdLevel()}`);
console.log(`Node: ${process.version}, threads: ${threads}, repeats: ${repeats} per run, two runs per side (best of)`);
console.log(`load average (1 min) at the start: ${loadavg()[0].toFixed(2)}`);

// numpy and ours run twice each, alternating, and each side keeps its best
// time per operation: other processes load this machine in bursts, and a
// burst during one run must not decide the ratio.
const numpyFirst = timeNumpy();
console.log(`numpy ${numpyFirst.version} (${numpyFirst.blas}); ${numpyFirst.lapack}`);
const oursFirst = await timeOurs();
const numpySecond = timeNumpy();
const oursSecond = await timeOurs();
const numpySeconds = minimumTimes(numpyFirst.seconds, numpySecond.seconds);
const ours = minimumTimes(oursFirst, oursSecond);
const numpy = { ...numpyFirst, seconds: numpySeconds };
const loadAverage = loadavg()[0];
console.log(`load average (1 min) at the end: ${loadAverage.toFixed(2)}`);

const rows = (Object.keys(flops) as Operation[]).map((name) => {
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
  'inverseFactor: ours is one recursive pass computing R (H = R R^T) and U = R^-1; numpy side is GPTQ\'s route ' +
    '(Cholesky, cholesky_inverse, Cholesky), both counted as 2n^3/3. hessian counts 2 * tokens * cols^2 for both.',
);

const date = new Date().toISOString();
const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `linalg-${date.slice(0, 19).replace(/:/g, '-')}.json`);
writeFileSync(
  file,
  JSON.stringify({ date, cpu, simdLevel: native.simdLevel(), node: process.version, threads, repeats, loadAverage, numpy, rows }, null, 2) + '\n',
);
console.log(`results written to ${file}`);
