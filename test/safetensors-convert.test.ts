// F16/BF16 <-> float32 conversion at every SIMD level this machine has,
// against references written here in float64: exact bit patterns expected.
import {
  bfloat16BytesToFloat32,
  float16BytesToFloat32,
  float32ToBfloat16Bytes,
  float32ToFloat16Bytes,
  setSimdLevel,
  simdLevel,
  supportedSimdLevels,
} from '../lib/index.js';

const ALL_PATTERNS = new Uint8Array(new Uint16Array(65536).map((_, i) => i).buffer);

function bitsOfFloat(value: number): number {
  return new Uint32Array(new Float32Array([value]).buffer)[0];
}

function floatOfBits(bits: number): number {
  return new Float32Array(new Uint32Array([bits]).buffer)[0];
}

// Value of a finite half (or ±Inf) in float64; NaN handled by the caller.
function halfValue(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 31;
  const mantissa = h & 1023;
  if (exponent === 31) return sign * Infinity;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

// Expected float32 bits of F16 pattern h: exact value; NaN keeps sign and
// payload, quiet bit set.
function expectedHalfToFloatBits(h: number): number {
  const isNaN = ((h >> 10) & 31) === 31 && (h & 1023) !== 0;
  if (isNaN) return (((h & 0x8000) << 16) | 0x7fc00000 | ((h & 1023) << 13)) >>> 0;
  return bitsOfFloat(halfValue(h));
}

const POSITIVE_HALVES = Array.from({ length: 0x7c00 }, (_, h) => halfValue(h));

// Nearest F16 encoding to x by binary search over all finite halves, ties to
// the even encoding. From 65520 (65504 plus half a unit) up, it is Inf.
function nearestHalf(x: number): number {
  if (Number.isNaN(x)) {
    const bits = bitsOfFloat(x);
    return ((bits >>> 16) & 0x8000) | 0x7e00 | ((bits >>> 13) & 0x3ff);
  }
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const target = Math.abs(x);
  if (target >= 65520) return sign | 0x7c00;
  let lo = 0;
  let hi = 0x7bff;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (POSITIVE_HALVES[mid] <= target) lo = mid; else hi = mid - 1;
  }
  if (lo < 0x7bff) {
    const below = target - POSITIVE_HALVES[lo];
    const above = POSITIVE_HALVES[lo + 1] - target;
    if (above < below || (above === below && (lo & 1) === 1)) lo += 1;
  }
  return sign | lo;
}

// Nearest BF16 encoding: compare the two truncation neighbours in float64.
function nearestBfloat(x: number): number {
  const bits = bitsOfFloat(x);
  if (Number.isNaN(x)) return (bits >>> 16) | 0x40;
  const down = (bits & 0xffff0000) >>> 0;
  const up = (down + 0x10000) >>> 0;
  const upValue = (up & 0x7fffffff) === 0x7f800000 ? Math.sign(x) * 2 ** 128 : floatOfBits(up);
  const below = Math.abs(x - floatOfBits(down));
  const above = Math.abs(upValue - x);
  const roundUp = above < below || (above === below && ((down >>> 16) & 1) === 1);
  return (roundUp ? up : down) >>> 16;
}

// The last one, NaN, must become the quiet F16 NaN 0x7e00.
const EDGES = [0, -0, 1, 65504, 65519.99, 65520, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 2 ** -14, 1e-30, Infinity, -Infinity, NaN];

function testFloats(count: number): Float32Array {
  const bits = new Uint32Array(count);
  let state = 12345;
  for (let i = 0; i < count; ++i) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const random = state;
    // A third arbitrary bit patterns, a third in the half range, a third exact ties.
    if (i % 3 === 0) bits[i] = random;
    else if (i % 3 === 1) bits[i] = (((random & 0x8fffffff) | 0x30000000) >>> 0);
    else bits[i] = ((random & 0xffffe000) | 0x1000) >>> 0;
  }
  const values = new Float32Array(bits.buffer);
  values.set(EDGES);
  return values;
}

describe('float16 and bfloat16 conversion', () => {
  const original = simdLevel();
  afterAll(() => setSimdLevel(original));

  describe.each(supportedSimdLevels())('at level %s', (level) => {
    beforeEach(() => setSimdLevel(level));

    test('F16 to float32 over all 65,536 patterns', () => {
      const bits = new Uint32Array(float16BytesToFloat32(ALL_PATTERNS).buffer);
      for (let h = 0; h < 65536; ++h) {
        if (bits[h] !== expectedHalfToFloatBits(h)) {
          throw new Error(`F16 0x${h.toString(16)}: got 0x${bits[h].toString(16)}, expected 0x${expectedHalfToFloatBits(h).toString(16)}`);
        }
      }
      expect(bits[0x8000]).toBe(0x80000000);
      expect(bits[0x0001]).toBe(bitsOfFloat(2 ** -24));
    });

    test('BF16 to float32 over all 65,536 patterns', () => {
      const bits = new Uint32Array(bfloat16BytesToFloat32(ALL_PATTERNS).buffer);
      for (let b = 0; b < 65536; ++b) {
        if (bits[b] !== ((b << 16) >>> 0)) throw new Error(`BF16 0x${b.toString(16)}: got 0x${bits[b].toString(16)}`);
      }
      expect(bits[0xff80]).toBe(0xff800000);
    });

    test('float32 to F16 and BF16 round to nearest even', () => {
      const values = testFloats(60000);
      const halves = new Uint16Array(float32ToFloat16Bytes(values).buffer);
      const bfloats = new Uint16Array(float32ToBfloat16Bytes(values).buffer);
      for (let i = 0; i < values.length; ++i) {
        if (halves[i] !== nearestHalf(values[i])) {
          throw new Error(`F16 of ${values[i]} (0x${bitsOfFloat(values[i]).toString(16)}): got 0x${halves[i].toString(16)}, expected 0x${nearestHalf(values[i]).toString(16)}`);
        }
        if (bfloats[i] !== nearestBfloat(values[i])) {
          throw new Error(`BF16 of ${values[i]} (0x${bitsOfFloat(values[i]).toString(16)}): got 0x${bfloats[i].toString(16)}, expected 0x${nearestBfloat(values[i]).toString(16)}`);
        }
      }
      expect(halves[EDGES.length - 1]).toBe(0x7e00);
    });

    test('every finite half survives float32 and back', () => {
      const back = new Uint16Array(float32ToFloat16Bytes(float16BytesToFloat32(ALL_PATTERNS)).buffer);
      for (let h = 0; h < 65536; ++h) {
        const isNaN = ((h >> 10) & 31) === 31 && (h & 1023) !== 0;
        const expected = isNaN ? h | 0x0200 : h;
        if (back[h] !== expected) throw new Error(`F16 0x${h.toString(16)} came back as 0x${back[h].toString(16)}`);
      }
      expect(back[0x7bff]).toBe(0x7bff);
    });
  });

  test('odd byte length is rejected', () => {
    expect(() => float16BytesToFloat32(new Uint8Array(3))).toThrow(RangeError);
    expect(() => bfloat16BytesToFloat32(new Uint8Array(1))).toThrow(RangeError);
  });
});
