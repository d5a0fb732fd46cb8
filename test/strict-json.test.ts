// The strict JSON parser against JSON.parse as the reference: same values on
// valid documents (objects compared as Maps, numbers by value), and the same
// verdict on arbitrary text, except where the strict parser rejects on
// purpose (duplicate keys, limits).
import fc from 'fast-check';

import { JsonNumber, JsonSyntaxError, parseStrictJson } from '../lib/safetensors/strict-json.js';
import type { JsonValue } from '../lib/safetensors/strict-json.js';

// Converts a strict parse result into what JSON.parse returns.
function toPlain(value: JsonValue): unknown {
  if (value instanceof JsonNumber) return value.value;
  if (Array.isArray(value)) return value.map(toPlain);
  if (value instanceof Map) {
    const object: Record<string, unknown> = {};
    for (const [key, member] of value) Object.defineProperty(object, key, { value: toPlain(member), enumerable: true });
    return object;
  }
  return value;
}

function parseOrError(text: string): { value?: JsonValue; error?: JsonSyntaxError } {
  try {
    return { value: parseStrictJson(text) };
  } catch (error) {
    if (error instanceof JsonSyntaxError) return { error };
    throw error;
  }
}

describe('strict JSON parser', () => {
  test('matches JSON.parse on generated documents', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 6 }), fc.constantFrom(0, 2), (value, indent) => {
      const text = JSON.stringify(value, null, indent);
      expect(toPlain(parseStrictJson(text))).toStrictEqual(JSON.parse(text));
    }), { seed: 7, numRuns: 2000 });
  });

  test('agrees with JSON.parse on arbitrary text', () => {
    const alphabet = fc.constantFrom(...'{}[],:"\\ \n\t0123456789-+.eEtrufalsn/bu\u00e9\u0001'.split(''));
    fc.assert(fc.property(fc.string({ unit: alphabet, maxLength: 24 }), (text) => {
      let reference: unknown;
      let referenceFailed = false;
      try {
        reference = JSON.parse(text);
      } catch {
        referenceFailed = true;
      }
      const strict = parseOrError(text);
      if (strict.error?.duplicateKey !== undefined) return;
      expect(strict.error === undefined).toBe(!referenceFailed);
      if (!referenceFailed) expect(toPlain(strict.value as JsonValue)).toStrictEqual(reference);
    }), { seed: 8, numRuns: 10000 });
  });

  test.each([
    ['trailing comma in an array', '[1,]'],
    ['trailing comma in an object', '{"a":1,}'],
    ['leading zero', '01'],
    ['plus sign', '+1'],
    ['bare fraction', '.5'],
    ['dot without digits', '1.'],
    ['NaN', 'NaN'],
    ['single quotes', "'a'"],
    ['raw control character', '"a\u0001"'],
    ['bad escape', '"\\x41"'],
    ['short unicode escape', '"\\u12"'],
    ['comment', '[1 /* x */]'],
    ['two values', '1 2'],
    ['empty text', ''],
    ['unquoted key', '{a:1}'],
  ])('rejects %s', (_name, text) => {
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
    expect(() => parseStrictJson(text)).toThrow(JsonSyntaxError);
  });

  test('duplicate keys are rejected at any depth with their path', () => {
    const top = parseOrError('{"a":1,"b":2,"a":3}').error;
    expect(top?.duplicateKey).toBe('a');
    expect(top?.path).toEqual([]);
    const nested = parseOrError('{"x":{"y":[{"k":1,"k":1}]}}').error;
    expect(nested?.duplicateKey).toBe('k');
    expect(nested?.path).toEqual(['x', 'y']);
  });

  test('escaped and unescaped spellings of one key are duplicates', () => {
    expect(parseOrError('{"a":1,"\\u0061":2}').error?.duplicateKey).toBe('a');
  });

  test('__proto__ is an ordinary key', () => {
    const value = parseStrictJson('{"__proto__":{"polluted":true}}') as Map<string, JsonValue>;
    expect(value.get('__proto__')).toBeInstanceOf(Map);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('plain integers are numbers, other literals keep their text', () => {
    expect(parseStrictJson('[0, 17, 9007199254740991]')).toEqual([0, 17, 9007199254740991]);
    const others = parseStrictJson('[9007199254740992, -1, 1.0, 1e2, -0, 12345678901234567890]') as JsonValue[];
    expect(others.map((value) => (value instanceof JsonNumber ? value.text : value)))
      .toEqual(['9007199254740992', '-1', '1.0', '1e2', '-0', '12345678901234567890']);
  });

  test('depth and array length limits', () => {
    expect(parseOrError(`${'['.repeat(65)}${']'.repeat(65)}`).error?.limitExceeded).toBe(true);
    expect(parseOrError(`${'['.repeat(64)}${']'.repeat(64)}`).error).toBeUndefined();
    expect(parseOrError('{"a":[1,2,3]}').error).toBeUndefined();
    expect(() => parseStrictJson('[1,2,3]', { maxArrayLength: 2 })).toThrow(/array longer than 2 elements/);
    expect(() => parseStrictJson(`${'['.repeat(100000)}`)).toThrow(/nesting deeper than 64/);
  });

  test('top-level members stream to a callback', () => {
    const seen: [string, unknown][] = [];
    const result = parseStrictJson('{"a":1,"b":[2]}', { onTopLevelMember: (key, value) => seen.push([key, value]) });
    expect(result).toEqual(new Map());
    expect(seen).toEqual([['a', 1], ['b', [2]]]);
    expect(() => parseStrictJson('{"a":1,"a":2}', { onTopLevelMember: () => undefined })).toThrow(/duplicate key "a"/);
  });
});
