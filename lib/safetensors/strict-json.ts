/**
 * A strict JSON parser (RFC 8259) for safetensors headers. Unlike JSON.parse,
 * which silently keeps the last of two equal keys, it rejects duplicate
 * object keys. It keeps objects in Maps, so a key such as `__proto__` is
 * plain data. A number is a JS number only when its literal is a plain
 * non-negative integer up to 2^53 - 1. Any other number keeps its source text
 * (JsonNumber), so rounding cannot make a fraction or a huge literal pass an
 * integer check. Nesting depth and array length are limited, so deep input
 * cannot overflow the stack and a long array cannot take memory far beyond
 * the size of the text.
 */

/** A number literal that is not a plain non-negative safe integer, kept as written. */
export class JsonNumber {
  constructor(readonly text: string) {}

  get value(): number {
    return Number(this.text);
  }
}

export type JsonValue = null | boolean | string | number | JsonNumber | JsonValue[] | JsonObject;
export type JsonObject = Map<string, JsonValue>;

export class JsonSyntaxError extends Error {
  /** The key repeated, when the error is a duplicate key. */
  readonly duplicateKey: string | undefined;
  /** True when the text is valid JSON but breaks a limit (depth or array length). */
  readonly limitExceeded: boolean;
  /** Keys from the top level down to the object that contains the error. */
  readonly path: readonly string[];

  constructor(
    message: string,
    readonly position: number,
    path: readonly string[],
    details: { duplicateKey?: string; limitExceeded?: boolean } = {},
  ) {
    super(message);
    this.name = 'JsonSyntaxError';
    this.path = path;
    this.duplicateKey = details.duplicateKey;
    this.limitExceeded = details.limitExceeded ?? false;
  }
}

/** Returns `value` when it is a non-negative integer up to 2^53 - 1 written as plain digits, else undefined. */
export function safeNonNegativeInteger(value: JsonValue | undefined): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

export interface StrictJsonLimits {
  /** Maximum nesting depth of arrays and objects (default 64). */
  maxDepth?: number;
  /** Maximum number of elements in one array (default unlimited). */
  maxArrayLength?: number;
  /**
   * Receives each member of a top-level object as soon as it is parsed,
   * instead of storing it: the result is then an empty Map. Duplicate keys
   * are still detected. A large header can thus be checked entry by entry
   * without holding all of its parsed values.
   */
  onTopLevelMember?: (key: string, value: JsonValue) => void;
}

/** Parses `text` as one JSON value with surrounding whitespace; throws JsonSyntaxError. */
export function parseStrictJson(text: string, limits: StrictJsonLimits = {}): JsonValue {
  const parser = new Parser(text, limits.maxDepth ?? 64, limits.maxArrayLength ?? Infinity, limits.onTopLevelMember);
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

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
    private readonly maxArrayLength: number,
    private readonly onTopLevelMember: ((key: string, value: JsonValue) => void) | undefined,
  ) {}

  fail(message: string, details?: { duplicateKey?: string; limitExceeded?: boolean }): never {
    throw new JsonSyntaxError(`${message} at character ${this.position}`, this.position, [...this.path], details);
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

  private checkDepth(depth: number): void {
    if (depth >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth} levels`, { limitExceeded: true });
  }

  private parseObject(depth: number): JsonObject {
    this.checkDepth(depth);
    const object: JsonObject = new Map();
    const streamed = depth === 0 ? this.onTopLevelMember : undefined;
    const streamedKeys = new Set<string>();
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
      if (object.has(key) || streamedKeys.has(key)) {
        this.position = keyStart;
        this.fail(`duplicate key ${JSON.stringify(key)}`, { duplicateKey: key });
      }
      this.skipWhitespace();
      if (this.text.charCodeAt(this.position) !== 0x3a) this.fail("expected ':' after a key");
      this.position++;
      this.skipWhitespace();
      this.path.push(key);
      const value = this.parseValue(depth + 1);
      if (streamed === undefined) {
        object.set(key, value);
      } else {
        streamedKeys.add(key);
        streamed(key, value);
      }
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
    this.checkDepth(depth);
    const array: JsonValue[] = [];
    this.position++;
    this.skipWhitespace();
    if (this.text.charCodeAt(this.position) === 0x5d) {
      this.position++;
      return array;
    }
    for (;;) {
      if (array.length === this.maxArrayLength) {
        this.fail(`array longer than ${this.maxArrayLength} elements`, { limitExceeded: true });
      }
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

  private parseNumber(): number | JsonNumber {
    const match = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
    match.lastIndex = this.position;
    const found = match.exec(this.text);
    if (found === null) this.fail('invalid number');
    this.position += found[0].length;
    const text = found[0];
    if (/^(0|[1-9][0-9]{0,15})$/.test(text)) {
      const value = Number(text);
      if (Number.isSafeInteger(value)) return value;
    }
    return new JsonNumber(text);
  }
}
