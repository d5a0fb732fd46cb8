// The benchmark-only linear algebra exports: they compute the right result on
// small inputs and reject arrays that are too short, so bench/linalg.ts
// measures real work and a wrong call cannot read out of bounds.
import { native } from '../lib/native.js';

describe('linear algebra benchmark bindings', () => {
  test('benchGemm adds op(A) op(B) to C', () => {
    // A = [[1, 2], [3, 4]], B = [[5, 6], [7, 8]], C starts at 1.
    const a = new Float32Array([1, 2, 3, 4]);
    const b = new Float32Array([5, 6, 7, 8]);
    const c = new Float32Array([1, 1, 1, 1]);
    native.benchGemm({ transA: false, transB: false, m: 2, n: 2, k: 2, a, b, c, threads: 1 });
    expect(Array.from(c)).toEqual([20, 23, 44, 51]);

    // A^T B: A^T = [[1, 3], [2, 4]].
    const d = new Float32Array(4);
    native.benchGemm({ transA: true, transB: false, m: 2, n: 2, k: 2, a, b, c: d, threads: 2 });
    expect(Array.from(d)).toEqual([26, 30, 38, 44]);
  });

  test('benchInverseFactor gives U with U^T U = H^-1', () => {
    // H = [[4, 2], [2, 3]], H^-1 = [[3, -2], [-2, 4]] / 8.
    const h = new Float32Array([4, 2, 2, 3]);
    const u = new Float32Array(4);
    native.benchInverseFactor({ h, n: 2, u, threads: 1 });
    expect(u[2]).toBe(0);
    const inverse = [
      u[0] * u[0],
      u[0] * u[1],
      u[0] * u[1],
      u[1] * u[1] + u[3] * u[3],
    ];
    const expected = [3 / 8, -2 / 8, -2 / 8, 4 / 8];
    inverse.forEach((value, i) => expect(value).toBeCloseTo(expected[i], 6));
  });

  test('benchCholesky and benchHessian compute small cases', () => {
    const a = new Float32Array([4, 2, 2, 3]);
    native.benchCholesky({ a, n: 2, threads: 1 });
    expect(a[0]).toBeCloseTo(2, 6);
    expect(a[2]).toBeCloseTo(1, 6);
    expect(a[3]).toBeCloseTo(Math.sqrt(2), 6);

    // Two tokens [1, 2] and [3, 4]: H = (2 / 2) x^T x, trace = 1 + 9 + 4 + 16.
    const x = new Float32Array([1, 2, 3, 4]);
    expect(native.benchHessian({ activations: x, tokens: 2, cols: 2, threads: 1 })).toBeCloseTo(30, 6);
  });

  test('benchmark bindings reject short arrays and bad sizes', () => {
    const small = new Float32Array(3);
    const four = new Float32Array(4);
    // Errors made by the addon belong to another realm under jest, so the
    // checks match messages instead of classes.
    expect(() =>
      native.benchGemm({ transA: false, transB: false, m: 2, n: 2, k: 2, a: small, b: four, c: four, threads: 1 }),
    ).toThrow(/a has 3 elements, needs 4/);
    expect(() => native.benchInverseFactor({ h: four, n: -1, u: four, threads: 1 })).toThrow(/n must be an integer/);
    expect(() =>
      native.benchHessian({ activations: new Float64Array(4) as never, tokens: 2, cols: 2, threads: 1 }),
    ).toThrow(/must be a Float32Array/);
    const indefinite = new Float32Array([1, 2, 2, 1]);
    expect(() => native.benchCholesky({ a: indefinite, n: 2, threads: 1 })).toThrow(/not positive definite/);
  });
});
