// The memory-read pass of bench/packed.ts: the prefetch distance changes
// only its speed, and a bad distance raises an error that names it.
import { native } from '../lib/native.js';

describe('sumF32 benchmark binding', () => {
  const x = Float32Array.from({ length: 1000 }, (_, i) => (i % 7) - 3);
  const exact = x.reduce((sum, value) => sum + value, 0);

  test('sums the same with every prefetch distance', () => {
    for (const threads of [1, 2]) {
      const plain = native.sumF32(x, threads);
      expect(plain).toBe(exact);
      for (const prefetchBytes of [0, 512, 8192, 1 << 20]) {
        expect(native.sumF32(x, threads, prefetchBytes)).toBe(plain);
      }
    }
  });

  test('rejects a bad prefetch distance', () => {
    expect(() => native.sumF32(x, 1, -1)).toThrow(/prefetchBytes must be an integer from 0 to 1048576, got -1/);
    expect(() => native.sumF32(x, 1, 1.5)).toThrow(/got 1\.5/);
    expect(() => native.sumF32(x, 1, (1 << 20) + 1)).toThrow(/got 1048577/);
    expect(() => native.sumF32(x, 1, '64' as unknown as number)).toThrow(/must be a number, got 64/);
  });
});
