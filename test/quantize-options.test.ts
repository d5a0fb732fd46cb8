// Option and input checks of quantizeLayer: each bad value raises this
// realm's TypeError or RangeError, before any native work, with a message
// that names the option and the rule.
import { quantizeLayer, quantizeLayerSync } from '../lib/index.js';
import { normalizeQuantizeOptions } from '../lib/quantize-options.js';
import type { QuantizeOptions, QuantizeProgressEvent } from '../lib/index.js';

const rows = 4;
const cols = 8;
const weight = { data: new Float32Array(rows * cols).fill(0.5), rows, cols };

function normalize(options: unknown, hasHessian = true) {
  return normalizeQuantizeOptions('quantizeLayer', options, hasHessian).native;
}

describe('quantize options', () => {
  test('defaults', () => {
    const options = normalize({});
    expect(options).toEqual({
      method: 'claq', grid: 'column', lowBits: 4, highBits: 4, targetBits: 4, ranking: 'outlier-order',
      outlierColumnFraction: 0.1, outlierHighFraction: 0, outlierLowFraction: 0, outlierThreshold: 13,
      actOrder: true, blockSize: 128, damping: 0.01, threads: options.threads,
    });
    expect(options.threads).toBeGreaterThanOrEqual(1);
  });

  test('bits alone is a uniform width', () => {
    expect(normalize({ bits: 3 })).toMatchObject({ lowBits: 3, highBits: 3, targetBits: 3 });
  });

  test('targetBits below 3 mixes 2 and 4 bits', () => {
    expect(normalize({ targetBits: 2.1 })).toMatchObject({ lowBits: 2, highBits: 4, targetBits: 2.1 });
  });

  test('targetBits from 3 mixes 3 and 4 bits', () => {
    expect(normalize({ targetBits: 3.25 })).toMatchObject({ lowBits: 3, highBits: 4, targetBits: 3.25 });
    expect(normalize({ targetBits: 4 })).toMatchObject({ lowBits: 4, highBits: 4, targetBits: 4 });
  });

  test('an integer targetBits is a uniform width', () => {
    expect(normalize({ targetBits: 3 })).toMatchObject({ lowBits: 3, highBits: 3, targetBits: 3 });
    expect(normalize({ targetBits: 2, method: 'rtn' }, false)).toMatchObject({ lowBits: 2, highBits: 2 });
  });

  test('bits with targetBits sets the base width', () => {
    expect(normalize({ bits: 2, targetBits: 3.5 })).toMatchObject({ lowBits: 2, highBits: 4, targetBits: 3.5 });
    expect(normalize({ bits: 3, targetBits: 3 })).toMatchObject({ lowBits: 3, highBits: 3, targetBits: 3 });
  });

  test('targetBits below bits is a contradiction', () => {
    expect(() => normalize({ bits: 3, targetBits: 2.5 })).toThrow(RangeError);
    expect(() => normalize({ bits: 3, targetBits: 2.5 })).toThrow(/options\.targetBits \(2\.5\) must be at least options\.bits \(3\)/);
  });

  test('adaptive precision needs claq or the column grid', () => {
    expect(() => normalize({ method: 'gptq', targetBits: 2.5 })).toThrow(RangeError);
    expect(() => normalize({ method: 'gptq', targetBits: 2.5 })).toThrow(
      /options\.targetBits 2\.5 asks for adaptive precision, a mix of bit widths, but the row grid of method 'gptq'.*use method 'claq' or options\.grid 'column'/);
    expect(() => normalize({ method: 'gptq', grid: 'row', bits: 2, targetBits: 3 })).toThrow(
      /options\.targetBits 3 with options\.bits 2 asks for adaptive precision/);
    expect(normalize({ method: 'gptq', grid: 'column', targetBits: 2.5 }))
      .toMatchObject({ grid: 'column', lowBits: 2, highBits: 4, targetBits: 2.5 });
  });

  test('grid is row by default for gptq and rtn, column for claq', () => {
    expect(normalize({ method: 'gptq' }).grid).toBe('row');
    expect(normalize({ method: 'rtn' }, false).grid).toBe('row');
    expect(normalize({ method: 'rtn', grid: 'column' }, false).grid).toBe('column');
    expect(normalize({}).grid).toBe('column');
  });

  test('public calls reject row grid with AP', () => {
    expect(() => quantizeLayerSync(weight, null, { method: 'rtn', bits: 2, targetBits: 2.5 })).toThrow(RangeError);
    expect(() => quantizeLayer(weight, null, { method: 'rtn', outliers: true })).toThrow(/row grid/);
    expect(() => quantizeLayerSync(weight, null, { method: 'rtn', grid: 'row', outliers: { lowFraction: 0.01 } }))
      .toThrow(RangeError);
  });

  test('grid is not an option of claq', () => {
    for (const grid of ['row', 'column'] as const) {
      expect(() => normalize({ grid })).toThrow(RangeError);
      expect(() => normalize({ method: 'claq', grid })).toThrow(
        /options\.grid applies to methods 'gptq' and 'rtn', not 'claq', whose K-Means codebooks are per column/);
    }
  });

  test('outliers true is the dynamic rule', () => {
    expect(normalize({ outliers: true })).toMatchObject({
      outlierColumnFraction: 0.1, outlierHighFraction: 0.014, outlierLowFraction: 0.004,
    });
  });

  test('outlier fractions fill from the dynamic rule', () => {
    expect(normalize({ outliers: { lowFraction: 0.01 } })).toMatchObject({
      outlierColumnFraction: 0.1, outlierHighFraction: 0.014, outlierLowFraction: 0.01,
    });
  });

  test('outliers need claq or the column grid', () => {
    expect(() => normalize({ method: 'rtn', outliers: true }, false)).toThrow(RangeError);
    expect(() => normalize({ method: 'rtn', outliers: true }, false)).toThrow(
      /options\.outliers \(outlier reservation\) does not combine with the row grid: .*use method 'claq' or options\.grid 'column'/);
    expect(() => normalize({ method: 'gptq', grid: 'row', outliers: { lowFraction: 0.01 } })).toThrow(RangeError);
    expect(normalize({ method: 'rtn', grid: 'column', outliers: true }, false))
      .toMatchObject({ outlierHighFraction: 0.014, outlierLowFraction: 0.004 });
  });

  test('gptq and claq need a Hessian', () => {
    expect(() => normalize({}, false)).toThrow(TypeError);
    expect(() => normalize({ method: 'gptq' }, false)).toThrow(/hessian must be a Hessian for method 'gptq'/);
  });

  const typeCases: Array<[string, unknown, RegExp]> = [
    ['method', 5, /options\.method must be one of 'claq', 'gptq', 'rtn', received 5/],
    ['bits', '2', /options\.bits must be a number, received '2'/],
    ['targetBits', null, /options\.targetBits must be a number, received null/],
    ['outliers', 'yes', /options\.outliers must be a boolean or an object/],
    ['outlierThreshold', '13', /options\.outlierThreshold must be a number/],
    ['ranking', true, /options\.ranking must be one of 'outlier-order', 'hessian'/],
    ['grid', 1, /options\.grid must be one of 'row', 'column', received 1/],
    ['actOrder', 1, /options\.actOrder must be a boolean, received 1/],
    ['blockSize', '128', /options\.blockSize must be a number/],
    ['damping', {}, /options\.damping must be a number, received an object/],
    ['threads', 2n, /options\.threads must be a number, received 2n/],
    ['signal', {}, /options\.signal must be an AbortSignal/],
    ['onProgress', 'log', /options\.onProgress must be a function/],
  ];
  test.each(typeCases)('%s of the wrong type is a TypeError', (name, value, message) => {
    expect(() => normalize({ [name]: value })).toThrow(TypeError);
    expect(() => normalize({ [name]: value })).toThrow(message);
  });

  const rangeCases: Array<[string, unknown, RegExp]> = [
    ['method', 'awq', /options\.method must be one of 'claq', 'gptq', 'rtn', received 'awq'/],
    ['grid', 'group', /options\.grid must be one of 'row', 'column', received 'group'/],
    ['bits', 5, /options\.bits must be 2, 3 or 4, received 5/],
    ['bits', 2.5, /options\.bits must be 2, 3 or 4, received 2\.5/],
    ['targetBits', 1.9, /options\.targetBits must be a finite number in \[2, 4\], received 1\.9/],
    ['targetBits', NaN, /options\.targetBits must be a finite number in \[2, 4\], received NaN/],
    ['outlierThreshold', 0, /options\.outlierThreshold must be greater than 0/],
    ['outlierThreshold', Infinity, /options\.outlierThreshold must be a finite number/],
    ['ranking', 'random', /options\.ranking must be one of 'outlier-order', 'hessian', received 'random'/],
    ['blockSize', 0, /options\.blockSize must be an integer in \[1, 65536\], received 0/],
    ['blockSize', 12.5, /options\.blockSize must be an integer in \[1, 65536\], received 12\.5/],
    ['damping', 0, /options\.damping must be in \(0, 1\], received 0/],
    ['damping', 2, /options\.damping must be a finite number in \[0, 1\], received 2/],
    ['threads', 0, /options\.threads must be an integer in \[1, 1024\], received 0/],
  ];
  test.each(rangeCases)('%s = %p is a RangeError', (name, value, message) => {
    expect(() => normalize({ [name]: value })).toThrow(RangeError);
    expect(() => normalize({ [name]: value })).toThrow(message);
  });

  const outlierCases: Array<[string, unknown, RegExp]> = [
    ['columnFraction', 1.5, /options\.outliers\.columnFraction must be a finite number in \[0, 1\], received 1\.5/],
    ['highFraction', 0.5, /options\.outliers\.highFraction must be a finite number in \[0, 0\.5\), received 0\.5/],
    ['lowFraction', -0.1, /options\.outliers\.lowFraction must be a finite number in \[0, 0\.5\), received -0\.1/],
  ];
  test.each(outlierCases)('outliers.%s = %p is a RangeError', (name, value, message) => {
    expect(() => normalize({ outliers: { [name]: value } })).toThrow(RangeError);
    expect(() => normalize({ outliers: { [name]: value } })).toThrow(message);
  });

  test('unknown option names are rejected', () => {
    expect(() => normalize({ bit: 2 })).toThrow(TypeError);
    expect(() => normalize({ bit: 2 })).toThrow(/unknown option options\.bit \(known: method, grid, bits/);
    expect(() => normalize({ outliers: { fraction: 0.1 } })).toThrow(/unknown option options\.outliers\.fraction/);
  });

  test('options of the wrong type', () => {
    expect(() => normalize(null)).toThrow(TypeError);
    expect(() => normalize([])).toThrow(/options must be an object, received an array/);
  });
});

describe('quantizeLayer input checks', () => {
  const rtn: QuantizeOptions = { method: 'rtn', bits: 2 };

  test('weight must be an object', () => {
    expect(() => quantizeLayer(null as never, null, rtn)).toThrow(TypeError);
    expect(() => quantizeLayerSync(7 as never, null, rtn)).toThrow(/weight must be an object \{ data, rows, cols \}, received 7/);
  });

  test('weight.data must be a Float32Array', () => {
    const data = new Float64Array(rows * cols);
    expect(() => quantizeLayer({ data, rows, cols } as never, null, rtn)).toThrow(TypeError);
    expect(() => quantizeLayer({ data, rows, cols } as never, null, rtn)).toThrow(/weight\.data must be a Float32Array, received a Float64Array/);
  });

  test('weight.data length must be rows * cols', () => {
    const data = new Float32Array(rows * cols - 1);
    expect(() => quantizeLayer({ data, rows, cols }, null, rtn)).toThrow(RangeError);
    expect(() => quantizeLayer({ data, rows, cols }, null, rtn)).toThrow(/weight\.data must have 32 elements \(rows \* cols = 4 \* 8\), received 31/);
  });

  test('weight.rows must be a positive integer', () => {
    expect(() => quantizeLayer({ ...weight, rows: 0 }, null, rtn)).toThrow(RangeError);
    expect(() => quantizeLayer({ ...weight, rows: 1.5 }, null, rtn)).toThrow(/weight\.rows must be an integer in \[1, 16777216\], received 1\.5/);
    expect(() => quantizeLayer({ ...weight, cols: '8' } as never, null, rtn)).toThrow(/weight\.cols must be a number/);
  });

  test('a non-finite weight is reported by row and column', () => {
    const data = new Float32Array(rows * cols);
    data[2 * cols + 5] = NaN;
    expect(() => quantizeLayerSync({ data, rows, cols }, null, rtn)).toThrow(RangeError);
    expect(() => quantizeLayerSync({ data, rows, cols }, null, rtn)).toThrow(/element \[row 2, column 5\] \(index 21\) is NaN/);
    data[2 * cols + 5] = 0;
    data[cols + 1] = -Infinity;
    expect(() => quantizeLayerSync({ data, rows, cols }, null, rtn)).toThrow(/\[row 1, column 1\] \(index 9\) is -Infinity/);
  });

  test('hessian must be a Hessian or null', () => {
    expect(() => quantizeLayer(weight, {} as never, rtn)).toThrow(TypeError);
    expect(() => quantizeLayer(weight, new Float64Array(64) as never, rtn)).toThrow(/hessian must be a Hessian or null, received a Float64Array/);
  });

  test('claq without a Hessian is rejected', () => {
    expect(() => quantizeLayer(weight, null, { bits: 2 })).toThrow(TypeError);
    expect(() => quantizeLayer(weight, null)).toThrow(/hessian must be a Hessian for method 'claq', received null/);
  });

  test('sync twin rejects onProgress', () => {
    expect(() => quantizeLayerSync(weight, null, { ...rtn, onProgress: () => undefined })).toThrow(TypeError);
    expect(() => quantizeLayerSync(weight, null, { ...rtn, onProgress: () => undefined })).toThrow(/onProgress is not supported/);
  });

  test('an aborted signal rejects before the start', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(quantizeLayer(weight, null, { ...rtn, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(() => quantizeLayerSync(weight, null, { ...rtn, signal: controller.signal })).toThrow(/aborted/);
  });
});

describe('quantize option types', () => {
  test('progress events narrow by type', () => {
    const describe = (event: QuantizeProgressEvent): string => {
      switch (event.type) {
        case 'start': return `${event.method} ${event.rows}x${event.cols}`;
        case 'columns': return `${event.done}/${event.total}`;
        case 'done': return `${event.seconds}`;
      }
    };
    expect(describe({ type: 'columns', done: 3, total: 8 })).toBe('3/8');
    expect(describe({ type: 'start', rows: 2, cols: 4, method: 'gptq' })).toBe('gptq 2x4');
  });

  test('tsc rejects unknown methods and option names', () => {
    // @ts-expect-error 'awq' is not a QuantizeMethod.
    const method: QuantizeOptions = { method: 'awq' };
    // @ts-expect-error 'bit' is not an option.
    const typo: QuantizeOptions = { bit: 2 };
    // @ts-expect-error outliers takes fractions, not a number.
    const outliers: QuantizeOptions = { outliers: 0.1 };
    expect(() => normalize(method)).toThrow(RangeError);
    expect(() => normalize(typo)).toThrow(TypeError);
    expect(() => normalize(outliers)).toThrow(TypeError);
  });
});
