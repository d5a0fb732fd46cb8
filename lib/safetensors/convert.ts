// Typed wrappers of the native F16/BF16 <-> F32 conversions
// (native/kernels/convert.h): round to nearest even when narrowing, exact
// when widening, NaN and ±Inf kept.
import { native } from '../native.js';

/** Converts little-endian F16 bytes to float32 (exact). `bytes.length` must be even. */
export function float16BytesToFloat32(bytes: Uint8Array): Float32Array {
  checkEven(bytes, 'float16BytesToFloat32');
  const result = new Float32Array(bytes.length / 2);
  native.f16ToF32Sync(bytes, result);
  return result;
}

/** Converts little-endian BF16 bytes to float32 (exact). `bytes.length` must be even. */
export function bfloat16BytesToFloat32(bytes: Uint8Array): Float32Array {
  checkEven(bytes, 'bfloat16BytesToFloat32');
  const result = new Float32Array(bytes.length / 2);
  native.bf16ToF32Sync(bytes, result);
  return result;
}

/** Converts float32 values to little-endian F16 bytes, rounding to nearest even. */
export function float32ToFloat16Bytes(values: Float32Array): Uint8Array {
  const result = new Uint8Array(values.length * 2);
  native.f32ToF16Sync(values, result);
  return result;
}

/** Converts float32 values to little-endian BF16 bytes, rounding to nearest even. */
export function float32ToBfloat16Bytes(values: Float32Array): Uint8Array {
  const result = new Uint8Array(values.length * 2);
  native.f32ToBf16Sync(values, result);
  return result;
}

function checkEven(bytes: Uint8Array, operation: string): void {
  // Not instanceof: a Buffer or a Uint8Array from another realm (jest's
  // sandbox) must pass too.
  if (!ArrayBuffer.isView(bytes) || (bytes as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] !== 'Uint8Array') throw new TypeError(`${operation}: bytes must be a Uint8Array`);
  if (bytes.length % 2 !== 0) throw new RangeError(`${operation}: bytes has an odd length (${bytes.length})`);
}
