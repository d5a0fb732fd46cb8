// Argument checks shared by the public API. Each throws this realm's TypeError
// or RangeError with a message that names the operation, the argument, the
// value received and the rule, before any native work starts.

import { native } from './native.js';

/** Names a value for an error message without dumping large objects. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (ArrayBuffer.isView(value)) return withArticle(typedArrayName(value));
  if (Array.isArray(value)) return 'an array';
  return 'an object';
}

/** Prefixes the indefinite article: 'an Int8Array', but 'a Uint8Array' (pronounced "you-int"). */
export function withArticle(word: string): string {
  return /^[AEIO]/i.test(word) ? `an ${word}` : `a ${word}`;
}

/**
 * Returns the class name of a typed array ('Float32Array', …). It reads the
 * built-in tag rather than using instanceof, because arrays made by the addon
 * or by another V8 context (a vm module, jest's sandbox) fail instanceof.
 */
export function typedArrayName(value: unknown): string {
  return Object.prototype.toString.call(value).slice(8, -1);
}

/** Checks that `value` is a typed array of class `type`, for example 'Float32Array'. */
export function checkTypedArray(operation: string, name: string, value: unknown, type: string): void {
  if (!ArrayBuffer.isView(value) || typedArrayName(value) !== type) {
    throw new TypeError(`${operation}: ${name} must be ${withArticle(type)}, received ${describeValue(value)}`);
  }
}

/** Checks that a typed array has exactly `expected` elements; `rule` explains that count. */
export function checkLength(operation: string, name: string, actual: number, expected: number, rule: string): void {
  if (actual !== expected) {
    throw new RangeError(`${operation}: ${name} must have ${expected} elements (${rule}), received ${actual}`);
  }
}

/** Checks an integer in [min, max]. */
export function checkInteger(operation: string, name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${operation}: ${name} must be a number, received ${describeValue(value)}`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${operation}: ${name} must be an integer in [${min}, ${max}], received ${value}`);
  }
  return value;
}

/** Checks a finite number in [min, max], or in [min, max) when `maxExclusive`. */
export function checkNumber(operation: string, name: string, value: unknown, min: number, max: number,
  maxExclusive = false): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${operation}: ${name} must be a number, received ${describeValue(value)}`);
  }
  const aboveMax = maxExclusive ? value >= max : value > max;
  if (!Number.isFinite(value) || value < min || aboveMax) {
    const range = `[${min}, ${max}${maxExclusive ? ')' : ']'}`;
    throw new RangeError(`${operation}: ${name} must be a finite number in ${range}, received ${value}`);
  }
  return value;
}

export function checkBoolean(operation: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new TypeError(`${operation}: ${name} must be a boolean, received ${describeValue(value)}`);
  }
  return value;
}

/** Checks that `value` is one of `choices`. */
export function checkChoice<T extends string>(operation: string, name: string, value: unknown,
  choices: readonly T[]): T {
  const list = choices.map((choice) => `'${choice}'`).join(', ');
  if (typeof value !== 'string') {
    throw new TypeError(`${operation}: ${name} must be one of ${list}, received ${describeValue(value)}`);
  }
  if (!(choices as readonly string[]).includes(value)) {
    throw new RangeError(`${operation}: ${name} must be one of ${list}, received '${value}'`);
  }
  return value as T;
}

/** Checks that every element of a [rows, cols] row-major matrix is finite; names the first bad one. */
export function checkFiniteMatrix(operation: string, name: string, data: ArrayLike<number>, cols: number): void {
  const index = firstNonFinite(data);
  if (index < 0) return;

  const row = Math.floor(index / cols);
  const col = index - row * cols;
  throw new RangeError(
    `${operation}: ${name} must be finite, but element [row ${row}, column ${col}] (index ${index}) is ${data[index]}`);
}

/**
 * Returns the index of the first NaN or infinite element, or -1. Float arrays
 * are scanned natively: a 4096 x 4096 weight takes milliseconds there, against
 * about 100 ms for the generic loop on the event loop.
 */
export function firstNonFinite(data: ArrayLike<number>): number {
  const tag = Object.prototype.toString.call(data);
  if (tag === '[object Float32Array]' || tag === '[object Float64Array]') {
    return native.firstNonFiniteSync(data as Float32Array | Float64Array);
  }
  for (let index = 0; index < data.length; index++) {
    const value = data[index];
    // NaN fails both comparisons, so one test catches NaN and both infinities.
    if (!(value > -Infinity && value < Infinity)) return index;
  }
  return -1;
}

/** Rejects option names that the operation does not know, so a typo does not pass silently. */
export function checkKnownKeys(operation: string, name: string, object: object, known: readonly string[]): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) {
      throw new TypeError(`${operation}: unknown option ${name}.${key} (known: ${known.join(', ')})`);
    }
  }
}
