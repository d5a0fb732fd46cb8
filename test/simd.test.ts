import { spawnSync } from 'node:child_process';

import { setSimdLevel, simdLevel, supportedSimdLevels } from '../lib/index.js';

describe('simd level', () => {
  test('supported levels start with scalar', () => {
    const levels = supportedSimdLevels();
    expect(levels[0]).toBe('scalar');
    expect(levels).toContain(simdLevel());
  });

  test('setSimdLevel pins each supported level', () => {
    const original = simdLevel();
    for (const level of supportedSimdLevels()) {
      setSimdLevel(level);
      expect(simdLevel()).toBe(level);
    }
    setSimdLevel(original);
  });

  test('setSimdLevel rejects an unknown level', () => {
    expect(() => setSimdLevel('sse9' as never)).toThrow(RangeError);
  });

  test('CLAQ_SIMD pins the level at load', () => {
    for (const level of supportedSimdLevels()) {
      const child = spawnSync(process.execPath, ['--input-type=module', '-e',
        `import { simdLevel } from '${new URL('../lib/index.js', import.meta.url).href}'; console.log(simdLevel());`],
        { env: { ...process.env, CLAQ_SIMD: level }, encoding: 'utf8' });
      expect(child.stderr).toBe('');
      expect(child.stdout.trim()).toBe(level);
    }
  });

  test('CLAQ_SIMD with an unknown level warns and falls back', () => {
    const child = spawnSync(process.execPath, ['--input-type=module', '-e',
      `import { simdLevel } from '${new URL('../lib/index.js', import.meta.url).href}'; console.log(simdLevel());`],
      { env: { ...process.env, CLAQ_SIMD: 'sse9' }, encoding: 'utf8' });
    expect(child.stderr).toContain('CLAQ_SIMD=sse9 is not a SIMD level');
    expect(supportedSimdLevels()).toContain(child.stdout.trim());
  });
});
