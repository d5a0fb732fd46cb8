// Native objects misused (released, or passed where another kind is
// expected), allocations that fail, and accumulations that could overflow a
// narrow type. Errors made by the addon come from the main V8 realm, so the
// raw-addon checks read `name`, `code` and `message` instead of instanceof.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { ClaqError, Hessian, PackedLinear, packLayer, quantizeLayerSync } from '../lib/index.js';
import { native } from '../lib/native.js';
import type { NativeHessian, PackedHandle } from '../types/native.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function thrownBy(call: () => unknown): { name: string; message: string; code?: string } {
  try {
    call();
  } catch (error) {
    return error as { name: string; message: string; code?: string };
  }
  throw new Error('expected the call to throw');
}

function smallLayer(): ReturnType<typeof quantizeLayerSync> {
  const rows = 6;
  const cols = 5;
  const data = Float32Array.from({ length: rows * cols }, (_, k) => Math.sin(k + 1));
  return quantizeLayerSync({ data, rows, cols }, null, { method: 'rtn', bits: 3 });
}

describe('native objects of the wrong kind', () => {
  const hessian = new Hessian(5).add(new Float32Array(10).fill(1), 2);
  const packed = packLayer(smallLayer());
  const x = new Float32Array(5);
  const y = new Float32Array(6);
  // The handle behind a PackedLinear, read through the addon's own packLayer.
  const packedHandle = native.packLayer(smallLayer());
  const denseHandle = native.denseF32Pack(new Float32Array(30), 6, 5);

  const notPacked: Array<[string, unknown]> = [
    ['a Hessian', hessian.nativeHandle()],
    ['a plain object', {}],
    ['a dense float32 handle', denseHandle],
    ['null', null],
    ['a number', 42],
  ];

  test.each(notPacked)('%s is not a packed layer handle', (_name, value) => {
    const error = thrownBy(() => native.packedMatmul(value as PackedHandle, x, 1, y, { threads: 1 }));
    expect(error.name).toBe('TypeError');
    expect(error.message).toMatch(/matmul: the first argument must be a packed layer handle from packLayer/);
    expect(thrownBy(() => native.packedInfo(value as PackedHandle)).name).toBe('TypeError');
    expect(thrownBy(() => native.packedRelease(value as PackedHandle)).name).toBe('TypeError');
  });

  test('packedMatmulAsync rejects a foreign handle synchronously', () => {
    const error = thrownBy(() => native.packedMatmulAsync(hessian.nativeHandle() as never, x, 1, y, { threads: 1 }));
    expect(error.name).toBe('TypeError');
  });

  const notHessian: Array<[string, unknown]> = [
    ['a packed layer handle', packedHandle],
    ['a plain object', { cols: () => 5, samples: () => 2 }],
    ['a dense float32 handle', denseHandle],
  ];

  test.each(notHessian)('%s is not a Hessian', (_name, value) => {
    const options = {
      method: 'claq', grid: 'column', lowBits: 2, highBits: 2, targetBits: 2, ranking: 'outlier-order',
      outlierColumnFraction: 0.1,
      outlierHighFraction: 0, outlierLowFraction: 0, outlierThreshold: 13, actOrder: true, blockSize: 128,
      damping: 0.01, threads: 1,
    } as const;
    const error = thrownBy(() => native.quantizeLayerSync(new Float32Array(30), 6, 5, value as NativeHessian, options));
    expect(error.name).toBe('TypeError');
    expect(error.message).toMatch(/hessian must be a Hessian/);
    expect(() => quantizeLayerSync({ data: new Float32Array(30), rows: 6, cols: 5 }, value as Hessian, { bits: 2 }))
      .toThrow(TypeError);
  });

  test('a Hessian method called on another object throws', () => {
    const handle = hessian.nativeHandle();
    for (const receiver of [{}, packedHandle, denseHandle]) {
      const error = thrownBy(() => Reflect.apply(handle.samples, receiver, []));
      expect(typeof error.message).toBe('string');
    }
  });

  test('a packed layer after release raises ERR_CLAQ_RELEASED', async () => {
    const layer = packLayer(smallLayer());
    layer.release();
    layer.release();
    const error = thrownBy(() => layer.matmul(x, 1));
    expect(error).toBeInstanceOf(ClaqError);
    expect(error.code).toBe('ERR_CLAQ_RELEASED');
    expect(() => layer.matmulAsync(x, 1)).toThrow(/the packed layer was released; pack it again/);

    // The raw handle after packedRelease: an Error with a message, not a crash.
    const handle = native.packLayer(smallLayer());
    native.packedRelease(handle);
    expect(thrownBy(() => native.packedMatmul(handle, x, 1, y, { threads: 1 })).message)
      .toMatch(/was released; pack it again/);
    expect(thrownBy(() => native.packedInfo(handle)).message).toMatch(/was released/);
    expect(() => native.packedMatmulAsync(handle, x, 1, y, { threads: 1 })).toThrow(/was released/);
  });

  test('a PackedLinear without a handle cannot be forged', () => {
    const forged = Object.create(PackedLinear.prototype) as PackedLinear;
    expect(() => forged.matmul(x, 1)).toThrow(TypeError);
  });

  afterAll(() => {
    packed.release();
    native.packedRelease(packedHandle);
  });
});

describe('failed allocations', () => {
  // A child process with a 12 GiB address-space limit (ulimit -v), so the
  // 32 GiB Gram matrix of a 65536-wide Hessian fails on any machine, however
  // much memory it has. The TypeScript checks accept 65536 columns.
  function runLimited(script: string): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync('bash', ['-c', `ulimit -v ${12 * 1024 * 1024} && exec "$0" --input-type=module -e "$1"`,
      process.execPath, script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  test('a Gram matrix that cannot be allocated is ERR_CLAQ_OUT_OF_MEMORY', () => {
    const script = `
      import { Hessian, MAX_HESSIAN_COLS } from './dist/lib/index.js';
      try {
        new Hessian(MAX_HESSIAN_COLS);
        console.log('allocated');
      } catch (error) {
        console.log(JSON.stringify({ name: error.name, code: error.code, message: error.message }));
      }
      // The process is still usable after the failure.
      console.log(new Hessian(3).add(new Float32Array([1, 2, 3]), 1).samples);`;
    const result = runLimited(script);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const [line, samples] = result.stdout.trim().split('\n');
    const error = JSON.parse(line) as { name: string; code: string; message: string };
    expect(error.name).toBe('ClaqError');
    expect(error.code).toBe('ERR_CLAQ_OUT_OF_MEMORY');
    expect(error.message).toMatch(/cannot allocate the 65536 x 65536 float64 Gram matrix/);
    expect(samples).toBe('1');
  });
});

describe('accumulation in narrow types', () => {
  test('packed matmul of 4096 columns at the float16 maximum stays finite', () => {
    // Every product is 65504 · 65504 ≈ 4.3e9; 4096 of them sum to 1.76e13,
    // far inside float32 but far outside float16 or any 32-bit integer.
    const rows = 3;
    const cols = 4096;
    const codes = new Uint8Array(rows * cols);
    for (let j = 0; j < cols; j++) {
      codes[j] = 3;
      codes[cols + j] = 0;
      codes[2 * cols + j] = j % 2 === 0 ? 3 : 0;
    }
    const codebookOffsets = Uint32Array.from({ length: cols + 1 }, (_, j) => 4 * j);
    const codebooks = new Float32Array(4 * cols);
    for (let j = 0; j < cols; j++) codebooks.set([-65504, -1, 1, 65504], 4 * j);
    const layer = PackedLinear.fromParts({
      rows, cols, bitsPerColumn: new Uint8Array(cols).fill(2), permutation: Int32Array.from({ length: cols }, (_, j) => j),
      codes, codebookOffsets, codebooks, outlierRows: new Int32Array(0), outlierCols: new Int32Array(0),
      outlierValues: new Float32Array(0),
    }, { threads: 2 });
    const x = new Float32Array(cols).fill(65504);
    const y = layer.matmul(x, 1);
    layer.release();
    const exact = 65504 * 65504 * cols;

    // Float32 sums of equal terms: the relative error stays near 2^-24 · log2(cols).
    expect(Math.abs(y[0] - exact) / exact).toBeLessThan(1e-5);
    expect(Math.abs(y[1] + exact) / exact).toBeLessThan(1e-5);
    expect(Math.abs(y[2])).toBeLessThan(1e-5 * exact);
  });

  test('Hessian sums of many large activations are exact in float64', () => {
    // 4096 tokens of 2^60: each square is 2^120 and the sum 2^132, which
    // overflows float32 (max 2^128) but not the float64 Gram matrix.
    const tokens = 4096;
    const activations = new Float32Array(tokens * 2).fill(2 ** 60);
    const gram = new Hessian(2).add(activations, tokens).gram();
    expect(gram[0]).toBe(2 ** 132);
    expect(gram[1]).toBe(2 ** 132);
  });
});
