// Hessian against a float64 reference computed here: H = (2 / n) Σ x xᵀ.
// Tolerance: the native path reduces each batch in float32 chunks and adds
// them in float64. Float32 has a 6e-8 unit roundoff and the sums here run over
// a few hundred tokens, so entries agree to about 1e-6 of the diagonal scale.
import { ClaqError, Hessian } from '../lib/index.js';

const TOLERANCE = 1e-5;

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomActivations(tokens: number, cols: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const x = new Float32Array(tokens * cols);
  for (let k = 0; k < x.length; k++) x[k] = (random() - 0.5) * 4 + (k % cols === 3 ? 10 : 0);
  return x;
}

function referenceGram(batches: Float32Array[], cols: number): Float64Array {
  const gram = new Float64Array(cols * cols);
  for (const x of batches) {
    const tokens = x.length / cols;
    for (let t = 0; t < tokens; t++) {
      for (let i = 0; i < cols; i++) {
        const xi = x[t * cols + i];
        for (let j = 0; j < cols; j++) gram[i * cols + j] += xi * x[t * cols + j];
      }
    }
  }
  return gram;
}

function expectClose(actual: Float64Array, expected: Float64Array, cols: number): void {
  let scale = 0;
  for (let i = 0; i < cols; i++) scale = Math.max(scale, Math.abs(expected[i * cols + i]));
  let worst = 0;
  for (let k = 0; k < expected.length; k++) worst = Math.max(worst, Math.abs(actual[k] - expected[k]));
  expect(worst / scale).toBeLessThan(TOLERANCE);
}

describe('Hessian', () => {
  const cols = 37;
  const batches = [randomActivations(100, cols, 1), randomActivations(1, cols, 2), randomActivations(260, cols, 3)];

  test('add over several batches matches float64', () => {
    const hessian = new Hessian(cols);
    for (const x of batches) hessian.add(x, x.length / cols, { threads: 2 });
    expect(hessian.samples).toBe(361);

    const gram = referenceGram(batches, cols);
    expectClose(hessian.gram(), gram, cols);
    expectClose(hessian.toFloat64Array(), gram.map((v) => (2 / 361) * v), cols);
  });

  test('addAsync matches add', async () => {
    const sync = new Hessian(cols);
    const async = new Hessian(cols);
    for (const x of batches) sync.add(x, x.length / cols);
    const pending = batches.map((x) => async.addAsync(x, x.length / cols));
    expect(async.busy).toBe(true);
    await Promise.all(pending);
    expect(async.busy).toBe(false);
    expect(async.samples).toBe(sync.samples);
    expectClose(async.gram(), sync.gram(), cols);
  });

  test('sync calls wait for addAsync', async () => {
    const hessian = new Hessian(cols);
    const pending = hessian.addAsync(batches[0], 100);
    expect(() => hessian.add(batches[1], 1)).toThrow(ClaqError);
    expect(() => hessian.gram()).toThrow(/an addAsync call is still running/);
    await pending;
    expect(() => hessian.add(batches[1], 1)).not.toThrow();
    expect(hessian.samples).toBe(101);
  });

  test('fromGram keeps the matrix and the count', () => {
    const gram = referenceGram(batches, cols);
    const hessian = Hessian.fromGram(gram, cols, 361);
    expect(hessian.samples).toBe(361);
    expect(Array.from(hessian.gram())).toEqual(Array.from(gram));
    const h = hessian.toFloat64Array();
    for (let k = 0; k < h.length; k++) expect(h[k]).toBe((2 / 361) * gram[k]);
  });

  test('fromGram widens float32', () => {
    const gram = Float32Array.of(4, 1, 1, 9);
    expect(Array.from(Hessian.fromGram(gram, 2, 8).toFloat64Array())).toEqual([1, 0.25, 0.25, 2.25]);
  });

  test('a new Hessian is zero', () => {
    const hessian = new Hessian(3);
    expect(hessian.samples).toBe(0);
    expect(Array.from(hessian.toFloat64Array())).toEqual(new Array(9).fill(0));
  });

  test('bad constructor arguments', () => {
    expect(() => new Hessian(0)).toThrow(RangeError);
    expect(() => new Hessian(0)).toThrow(/Hessian: cols must be an integer in \[1, 65536\], received 0/);
    expect(() => new Hessian('8' as never)).toThrow(TypeError);
  });

  test('bad add arguments', () => {
    const hessian = new Hessian(4);
    expect(() => hessian.add(new Float64Array(8) as never, 2)).toThrow(TypeError);
    expect(() => hessian.add(new Float64Array(8) as never, 2)).toThrow(/activations must be a Float32Array, received a Float64Array/);
    expect(() => hessian.add(new Float32Array(8), 3)).toThrow(RangeError);
    expect(() => hessian.add(new Float32Array(8), 3)).toThrow(/activations must have 12 elements \(tokens \* cols = 3 \* 4\), received 8/);
    expect(() => hessian.add(new Float32Array(8), 0)).toThrow(/tokens must be an integer in \[1, /);
    expect(() => hessian.add(new Float32Array(8), 2, { threads: 0 })).toThrow(/options\.threads must be an integer/);
    const x = new Float32Array(8);
    x[6] = NaN;
    expect(() => hessian.add(x, 2)).toThrow(/Hessian\.add: activations must be finite, but element \[row 1, column 2\] \(index 6\) is NaN/);
    expect(() => hessian.addAsync(x, 2)).toThrow(/Hessian\.addAsync: activations must be finite/);
    expect(hessian.samples).toBe(0);
  });

  test('bad fromGram arguments', () => {
    expect(() => Hessian.fromGram([1, 0, 0, 1] as never, 2, 1)).toThrow(TypeError);
    expect(() => Hessian.fromGram(new Float64Array(3), 2, 1)).toThrow(/gram must have 4 elements \(cols \* cols = 2 \* 2\), received 3/);
    expect(() => Hessian.fromGram(Float64Array.of(1, 0, 0, 1), 2, 0)).toThrow(/samples must be an integer in \[1, /);
    expect(() => Hessian.fromGram(Float64Array.of(1, 0, 0, -1), 2, 1)).toThrow(/non-negative diagonal, but \[1, 1\] is -1/);
    expect(() => Hessian.fromGram(Float64Array.of(1, 0.5, 0, 1), 2, 1)).toThrow(/must be symmetric, but \[1, 0\] = 0 and \[0, 1\] = 0\.5/);
    expect(() => Hessian.fromGram(Float64Array.of(1, Infinity, Infinity, 1), 2, 1)).toThrow(/\[row 0, column 1\] \(index 1\) is Infinity/);
  });
});
