// Byte and safetensors-aware mutations for the coverage-guided fuzzer. All
// randomness comes from one seeded generator, so a run is replayed from its
// seed and corpus.

/** Seeded generator (xorshift128+ reduced to 32 bits), one per fuzzing run. */
export class Random {
  private s0: number;
  private s1: number;

  constructor(seed: number) {
    this.s0 = (seed ^ 0x9e3779b9) >>> 0 || 1;
    this.s1 = (Math.imul(seed, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0 || 2;
  }

  next(): number {
    let x = this.s0;
    const y = this.s1;
    this.s0 = y;
    x ^= x << 23;
    x ^= x >>> 17;
    x ^= y ^ (y >>> 26);
    this.s1 = x >>> 0;
    return (this.s0 + this.s1) >>> 0;
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return n <= 1 ? 0 : this.next() % n;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
}

// Numbers that sit on the parser's limits: zero, signs, powers of two around
// 32 and 53 bits, float16 extremes, and JSON number forms.
const INTERESTING_NUMBERS = [
  '0', '-0', '1', '-1', '2', '7', '8', '9', '255', '256', '65504', '65536', '2147483647', '2147483648',
  '4294967295', '4294967296', '9007199254740991', '9007199254740992', '18446744073709551615',
  '1e3', '1.5', '1e400', '-1e400', '0x10', '00', '1E2', '3.0',
];
const INTERESTING_STRINGS = [
  'F32', 'F16', 'BF16', 'F64', 'I8', 'U8', 'I32', 'BOOL', 'F8_E4M3', 'f32', '', '__metadata__', '__proto__',
  'dtype', 'shape', 'data_offsets', 'format', 'claq', 'claq_version', 'claq_layers', 'rows', 'cols',
  '.claq.codes', '.claq.codebooks', '.claq.bits', '\\u0000', '\\ud800',
];
const INTERESTING_BYTES = [0, 1, 0x7f, 0x80, 0xff, 0x20, 0x22, 0x2c, 0x3a, 0x5b, 0x5d, 0x7b, 0x7d, 0x30, 0x39];

/** Largest input a mutation may produce; bounds memory per input. */
export const MAX_INPUT_BYTES = 1 << 20;

type Mutation = (input: Uint8Array, random: Random, corpus: readonly Uint8Array[]) => Uint8Array;

function concat(...parts: Uint8Array[]): Uint8Array {
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(Math.min(length, MAX_INPUT_BYTES));
  let at = 0;
  for (const part of parts) {
    const take = Math.min(part.length, out.length - at);
    out.set(part.subarray(0, take), at);
    at += take;
  }
  return out;
}

const flipBit: Mutation = (input, random) => {
  if (input.length === 0) return input;
  const out = input.slice();
  out[random.below(out.length)] ^= 1 << random.below(8);
  return out;
};

const setByte: Mutation = (input, random) => {
  if (input.length === 0) return Uint8Array.of(random.pick(INTERESTING_BYTES));
  const out = input.slice();
  out[random.below(out.length)] = random.below(2) === 0 ? random.pick(INTERESTING_BYTES) : random.below(256);
  return out;
};

const deleteRange: Mutation = (input, random) => {
  if (input.length === 0) return input;
  const at = random.below(input.length);
  const length = 1 + random.below(Math.min(64, input.length - at));
  return concat(input.subarray(0, at), input.subarray(at + length));
};

const duplicateRange: Mutation = (input, random) => {
  if (input.length === 0) return input;
  const at = random.below(input.length);
  const length = 1 + random.below(Math.min(64, input.length - at));
  const to = random.below(input.length + 1);
  return concat(input.subarray(0, to), input.subarray(at, at + length), input.subarray(to));
};

// Joins the front of this input to the back of another corpus entry.
const splice: Mutation = (input, random, corpus) => {
  const other = random.pick(corpus);
  return concat(input.subarray(0, random.below(input.length + 1)), other.subarray(random.below(other.length + 1)));
};

// Sets the 8-byte little-endian header length to a value near the real one,
// a limit or a random size.
const setHeaderLength: Mutation = (input, random) => {
  const out = input.length >= 8 ? input.slice() : concat(input, new Uint8Array(8 - input.length));
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const current = Number(view.getBigUint64(0, true) & 0xffffffffn);
  const choices = [current + 1, current - 1, current + 8, out.length - 8, out.length, 0, 2 ** 32, 100_000_001];
  view.setBigUint64(0, BigInt(Math.max(0, random.pick(choices))), true);
  return out;
};

// The JSON header, when the input has one whose length fits: [start, end).
function headerSpan(input: Uint8Array): [number, number] | null {
  if (input.length < 8) return null;
  const length = Number(new DataView(input.buffer, input.byteOffset, 8).getBigUint64(0, true));
  return length > 0 && 8 + length <= input.length ? [8, 8 + length] : null;
}

// Replaces one token of the JSON header (a number or a string) and fixes
// the header length, so the mutation reaches the rules after JSON parsing.
const replaceJsonToken: Mutation = (input, random) => {
  const span = headerSpan(input);
  if (span === null) return input;
  const text = Buffer.from(input.subarray(span[0], span[1])).toString('latin1');
  const tokens = [...text.matchAll(/-?\d[\d.eE+-]*|"(?:[^"\\]|\\.)*"/g)];
  if (tokens.length === 0) return input;
  const token = random.pick(tokens);
  const isString = token[0].startsWith('"');
  const replacement = isString ? `"${random.pick(INTERESTING_STRINGS)}"` : random.pick(INTERESTING_NUMBERS);
  const index = token.index ?? 0;
  const header = Buffer.from(text.slice(0, index) + replacement + text.slice(index + token[0].length), 'latin1');
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(header.length), true);
  return concat(length, header, input.subarray(span[1]));
};

// Changes one byte of the data section and leaves the header valid, so the
// input reaches the checks on tensor contents (claq layer validation).
const setDataByte: Mutation = (input, random) => {
  const span = headerSpan(input);
  if (span === null || span[1] >= input.length) return setByte(input, random, []);
  const out = input.slice();
  const at = span[1] + random.below(input.length - span[1]);
  out[at] = random.below(2) === 0 ? random.pick(INTERESTING_BYTES) : random.below(256);
  return out;
};

const MUTATIONS: Array<[Mutation, number]> = [
  [flipBit, 3], [setByte, 3], [deleteRange, 2], [duplicateRange, 2], [splice, 1], [setHeaderLength, 1],
  [replaceJsonToken, 6], [setDataByte, 4],
];
const TOTAL_WEIGHT = MUTATIONS.reduce((sum, [, weight]) => sum + weight, 0);

/** Applies 1 to 4 weighted mutations to `input`. */
export function mutate(input: Uint8Array, random: Random, corpus: readonly Uint8Array[]): Uint8Array {
  let out = input;
  const count = 1 + random.below(4);
  for (let k = 0; k < count; k++) {
    let roll = random.below(TOTAL_WEIGHT);
    for (const [mutation, weight] of MUTATIONS) {
      roll -= weight;
      if (roll < 0) {
        out = mutation(out, random, corpus);
        break;
      }
    }
  }
  return out;
}
