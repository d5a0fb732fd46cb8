/**
 * A strict JSON parser (RFC 8259) for safetensors headers. Unlike JSON.parse,
 * which silently keeps the last of two equal keys, it rejects duplicate
 * object keys. It keeps objects in Maps, so a key such as `__proto__` is
 * plain data. It keeps each number's source text, so rounding cannot make a
 * fraction pass an integer check. It limits nesting depth, so deep input
 * cannot overflow the stack.
 */

export class JsonNumber {
  constructor(readonly text: string) {}

  get value(): number {
    return Number(this.text);
  }

  /** Returns the value when the literal is a plain non-negative integer no larger than 2^53 - 1, else undefined. */
  safeNonNegativeInteger(): number | undefined {
    if (!/^(0|[1-9][0-9]{0,15})$/.test(this.text)) return undefined;
    const value = Number(this.text);
    return Number.isSafeInteger(value) ? value : undefined;
  }
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;
export type JsonObject = Map<string, JsonValue>;

export class JsonSyntaxError extends Error {
  /** The key repeated, when the error is a duplicate key. */
  readonly duplicateKey: string | undefined;
  /** Keys from the top level down to the object that contains the error. */
  readonly path: readonly string[];

  constructor(message: string, readonly position: number, path: readonly string[], duplicateKey?: string) {
    super(message);
    this.name = 'JsonSyntaxError';
    this.path = path;
    this.duplicateKey = duplicateKey;
  }
}

export const MAX_JSON_DEPTH = 64;

/** Parses `text` as one JSON value with surrounding whitespace; throws JsonSyntaxError. */
export function parseStrictJson(text: string): JsonValue {
  const parser = new Parser(text);
  parser.skipWhitespace();
  const value = parser.parseValue(0);
  parser.skipWhitespace();
  if (parser.position !== text.length) parser.fail('unexpected text after the JSON value');
  return value;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

class Parser {
  position = 0;
  private readonly path: string[] = [];

  constructor(private readonly text: string) {}

  fail(message: string, duplicateKey?: string): never {
    throw new JsonSyntaxError(`${message} at character ${this.position}`, this.position, [...this.path], duplicateKey);
  }

  skipWhitespace(): void {
    const text = this.text;
    let i = this.position;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      ++i;
    }
    this.position = i;
  }

  parseValue(depth: number): JsonValue {
    if (depth > MAX_JSON_DEPTH) this.fail(`nesting deeper than ${MAX_JSON_DEPTH} levels`);
    const c = this.text.charCodeAt(this.position);
    if (c === 0x7b) return this.parseObject(depth);
    if (c === 0x5b) return this.parseArray(depth);
    if (c === QUOTE) return this.parseString();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
    if (this.text.startsWith('true', this.position)) return this.literal(4, true);
    if (this.text.startsWith('false', this.position)) return this.literal(5, false);
    if (this.text.startsWith('null', this.position)) return this.literal(4, null);
    return this.fail(this.position >= this.text.length ? 'unexpected end of input' : 'unexpected character');
  }

  private literal<T>(length: number, value: T): T {
    this.position += length;
    return value;
  }

  private parseObject(depth: number): JsonObject {
    const object: JsonObject = new Map();
    this.position++;
    this.skipWhitespace();
    if (this.text.charCodeAt(this.position) === 0x7d) {
      this.position++;
      return object;
    }
    for (;;) {
      if (this.text.charCodeAt(this.position) !== QUOTE) this.fail('expected a string key');
      const keyStart = this.position;
      const key = this.parseString();
      if (object.has(key)) {
        this.position = keyStart;
        this.fail(`duplicate key ${JSON.stringify(key)}`, key);
      }
      this.skipWhitespace();
      if (this.text.charCodeAt(this.position) !== 0x3a) this.fail("expected ':' after a key");
      this.position++;
      this.skipWhitespace();
      this.path.push(key);
      object.set(key, this.parseValue(depth + 1));
      this.path.pop();
      this.skipWhitespace();
      const next = this.text.charCodeAt(this.position);
      this.position++;
      if (next === 0x7d) return object;
      if (next !== 0x2c) {
        this.position--;
        this.fail("expected ',' or '}' in an object");
      }
      this.skipWhitespace();
    }
  }

  private parseArray(depth: number): JsonValue[] {
    const array: JsonValue[] = [];
    this.position++;
    this.skipWhitespace();
    if (this.text.charCodeAt(this.position) === 0x5d) {
      this.position++;
      return array;
    }
    for (;;) {
      array.push(this.parseValue(depth + 1));
      this.skipWhitespace();
      const next = this.text.charCodeAt(this.position);
      this.position++;
      if (next === 0x5d) return array;
      if (next !== 0x2c) {
        this.position--;
        this.fail("expected ',' or ']' in an array");
      }
      this.skipWhitespace();
    }
  }

  private parseString(): string {
    const text = this.text;
    let i = this.position + 1;
    let result = '';
    let segmentStart = i;
    for (;;) {
      if (i >= text.length) {
        this.position = i;
        this.fail('unterminated string');
      }
      const c = text.charCodeAt(i);
      if (c === QUOTE) break;
      if (c < 0x20) {
        this.position = i;
        this.fail('control character in a string');
      }
      if (c !== BACKSLASH) {
        ++i;
        continue;
      }
      result += text.slice(segmentStart, i);
      i = this.parseEscape(i, (decoded) => { result += decoded; });
      segmentStart = i;
    }
    result += text.slice(segmentStart, i);
    this.position = i + 1;
    return result;
  }

  // Decodes the escape at text[i] (a backslash); returns the index after it.
  private parseEscape(i: number, append: (decoded: string) => void): number {
    const escape = this.text[i + 1];
    const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
    if (escape !== undefined && Object.prototype.hasOwnProperty.call(simple, escape)) {
      append(simple[escape]);
      return i + 2;
    }
    if (escape === 'u') {
      const hex = this.text.slice(i + 2, i + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
        this.position = i;
        this.fail('invalid \\u escape');
      }
      append(String.fromCharCode(parseInt(hex, 16)));
      return i + 6;
    }
    this.position = i;
    return this.fail('invalid escape in a string');
  }

  private parseNumber(): JsonNumber {
    const match = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
    match.lastIndex = this.position;
    const found = match.exec(this.text);
    if (found === null) this.fail('invalid number');
    this.position += found[0].length;
    return new JsonNumber(found[0]);
  }
}
