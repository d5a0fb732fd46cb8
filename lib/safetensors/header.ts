// Validation of a safetensors header: the JSON text after the 8-byte length,
// checked against the size of the data section that follows it.
import { type Dtype, DTYPES, dtypeSize, isDtype } from './dtype.js';
import { SafetensorsError } from './errors.js';
import {
  type JsonObject,
  type JsonValue,
  JsonNumber,
  JsonSyntaxError,
  parseStrictJson,
  safeNonNegativeInteger,
} from './strict-json.js';

/** Upper bound on the header length field; larger values are rejected before any allocation. */
export const MAX_HEADER_LENGTH = 100_000_000;

/**
 * Longest array accepted in a header. Shapes and data offsets are short; the
 * limit keeps a crafted header from building an array far larger in memory
 * than its text.
 */
export const MAX_ARRAY_LENGTH = 1024;

/** The key of the optional string-to-string metadata map in a header. */
export const METADATA_KEY = '__metadata__';

/** One tensor of a safetensors file. */
export interface TensorInfo {
  /** The tensor name (any string, `__proto__` included). */
  name: string;
  dtype: Dtype;
  /** Dimensions; `[]` for a scalar (0-d) tensor. */
  shape: number[];
  /** Position of the first byte in the file (8 + header length + the begin data offset). */
  byteOffset: number;
  /** Length in bytes: element count × dtype size. */
  byteLength: number;
  /** Path of the file that stores the tensor. */
  file: string;
}

export interface ParsedHeader {
  metadata: Map<string, string>;
  /** Tensors in ascending data offset order (header order for ties). */
  tensors: TensorInfo[];
}

/**
 * Parses and validates the header bytes of a file whose data section (the
 * bytes after the header) is `dataSize` bytes long. Throws SafetensorsError.
 */
export function parseHeader(headerBytes: Uint8Array, dataSize: number, file: string): ParsedHeader {
  const dataStart = 8 + headerBytes.length;
  let metadata = new Map<string, string>();
  const tensors: TensorInfo[] = [];

  // Each entry is checked as soon as it is parsed, so a bad entry early in a
  // large header fails fast and parsed JSON values do not pile up.
  parseHeaderJson(headerBytes, file, (name, value) => {
    if (name === METADATA_KEY) metadata = parseMetadata(value, file);
    else tensors.push(parseEntry(name, value, dataStart, dataSize, file));
  });

  checkContiguous(tensors, dataStart, dataSize, file);
  return { metadata, tensors };
}

function parseHeaderJson(
  headerBytes: Uint8Array,
  file: string,
  onEntry: (name: string, value: JsonValue) => void,
): void {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch (error) {
    throw new SafetensorsError('header-not-utf8', file, undefined, 'the header is not valid UTF-8', { cause: error });
  }

  let root: JsonValue;
  try {
    root = parseStrictJson(text, { maxDepth: 64, maxArrayLength: MAX_ARRAY_LENGTH, onTopLevelMember: onEntry });
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    throw jsonError(error, file);
  }
  if (!(root instanceof Map)) {
    throw new SafetensorsError('header-not-object', file, undefined,
      `the header must be a JSON object, got ${describeJson(root)}`);
  }
}

// Maps a JSON syntax error to the rule it breaks: a repeated tensor name, a
// repeated key or a limit broken inside the metadata or an entry, or plain
// invalid JSON.
function jsonError(error: JsonSyntaxError, file: string): SafetensorsError {
  const [top] = error.path;
  if (error.duplicateKey !== undefined && error.path.length === 0) {
    if (error.duplicateKey === METADATA_KEY) {
      return new SafetensorsError('bad-metadata', file, undefined, `${METADATA_KEY} appears twice in the header`);
    }
    return new SafetensorsError('duplicate-name', file, error.duplicateKey, 'the tensor name appears twice in the header');
  }
  if (error.duplicateKey !== undefined && top === METADATA_KEY) {
    return new SafetensorsError('bad-metadata', file, undefined,
      `the metadata key ${JSON.stringify(error.duplicateKey)} appears twice`);
  }
  if (error.duplicateKey !== undefined) {
    return new SafetensorsError('bad-entry', file, top, `the key ${JSON.stringify(error.duplicateKey)} appears twice`);
  }
  if (error.limitExceeded && top === METADATA_KEY) {
    return new SafetensorsError('bad-metadata', file, undefined, `${METADATA_KEY} breaks a limit: ${error.message}`);
  }
  if (error.limitExceeded && top !== undefined) {
    return new SafetensorsError('bad-entry', file, top, `the entry breaks a limit: ${error.message}`);
  }
  return new SafetensorsError('header-not-json', file, undefined, `the header is not valid JSON: ${error.message}`);
}

function parseMetadata(value: JsonValue, file: string): Map<string, string> {
  if (!(value instanceof Map)) {
    throw new SafetensorsError('bad-metadata', file, undefined,
      `${METADATA_KEY} must be an object of strings, got ${describeJson(value)}`);
  }
  const metadata = new Map<string, string>();
  for (const [key, entry] of value) {
    if (typeof entry !== 'string') {
      throw new SafetensorsError('bad-metadata', file, undefined,
        `${METADATA_KEY} value for key ${JSON.stringify(key)} must be a string, got ${describeJson(entry)}`);
    }
    metadata.set(key, entry);
  }
  return metadata;
}

const ENTRY_KEYS = ['dtype', 'shape', 'data_offsets'];

function parseEntry(name: string, value: JsonValue, dataStart: number, dataSize: number, file: string): TensorInfo {
  if (!(value instanceof Map)) {
    throw new SafetensorsError('bad-entry', file, name, `the entry must be an object, got ${describeJson(value)}`);
  }
  for (const key of value.keys()) {
    if (!ENTRY_KEYS.includes(key)) {
      throw new SafetensorsError('bad-entry', file, name,
        `unexpected key ${JSON.stringify(key)} (expected only dtype, shape and data_offsets)`);
    }
  }
  for (const key of ENTRY_KEYS) {
    if (!value.has(key)) throw new SafetensorsError('bad-entry', file, name, `the entry has no ${key}`);
  }

  const dtype = value.get('dtype');
  if (!isDtype(dtype)) {
    throw new SafetensorsError('unknown-dtype', file, name,
      `unknown dtype ${typeof dtype === 'string' ? JSON.stringify(dtype) : describeJson(dtype ?? null)} ` +
      `(expected one of ${DTYPES.join(' ')})`);
  }
  const shape = parseShape(value.get('shape') ?? null, name, file);
  const [begin, end] = parseOffsets(value.get('data_offsets') ?? null, name, file);

  if (end > dataSize) {
    throw new SafetensorsError('offset-out-of-range', file, name,
      `data_offsets [${begin}, ${end}] end beyond the data section of ${dataSize} bytes`);
  }
  const elements = shape.reduce((product, dimension) => product * BigInt(dimension), 1n);
  const expected = elements * BigInt(dtypeSize(dtype));
  if (expected !== BigInt(end - begin)) {
    throw new SafetensorsError('size-mismatch', file, name,
      `shape [${shape.join(', ')}] of ${dtype} needs ${expected} bytes but data_offsets [${begin}, ${end}] ` +
      `span ${end - begin}`);
  }
  return { name, dtype, shape, byteOffset: dataStart + begin, byteLength: end - begin, file };
}

function parseShape(value: JsonValue, name: string, file: string): number[] {
  if (!Array.isArray(value)) {
    throw new SafetensorsError('bad-shape', file, name, `shape must be an array, got ${describeJson(value)}`);
  }
  return value.map((dimension, axis) => {
    const size = safeNonNegativeInteger(dimension);
    if (size === undefined) {
      throw new SafetensorsError('bad-shape', file, name,
        `shape[${axis}] must be a non-negative integer below 2^53, got ${describeJson(dimension)}`);
    }
    return size;
  });
}

function parseOffsets(value: JsonValue, name: string, file: string): [number, number] {
  if (!Array.isArray(value) || value.length !== 2) {
    throw new SafetensorsError('bad-offsets', file, name,
      `data_offsets must be an array of two integers [begin, end], got ${describeJson(value)}`);
  }
  const [begin, end] = value.map(safeNonNegativeInteger);
  if (begin === undefined || end === undefined) {
    throw new SafetensorsError('bad-offsets', file, name,
      `data_offsets must be non-negative integers below 2^53, got ${describeJson(value)}`);
  }
  if (begin > end) {
    throw new SafetensorsError('bad-offsets', file, name, `data_offsets [${begin}, ${end}] end before they begin`);
  }
  return [begin, end];
}

// Sorted by offset, the tensors must tile the data section exactly: the first
// begins at 0, each begins where the previous one ends, the last ends at the
// end of the file. Zero-size tensors may share an offset.
function checkContiguous(tensors: TensorInfo[], dataStart: number, dataSize: number, file: string): void {
  tensors.sort((a, b) => a.byteOffset - b.byteOffset || a.byteLength - b.byteLength);
  let position = dataStart;
  let previous: TensorInfo | undefined;
  for (const tensor of tensors) {
    const begin = tensor.byteOffset - dataStart;
    if (tensor.byteOffset > position) {
      throw new SafetensorsError('gap', file, tensor.name,
        `data begins at offset ${begin}, but the data before it ends at ${position - dataStart}` +
        ` (${tensor.byteOffset - position} unused bytes)`);
    }
    if (tensor.byteOffset < position) {
      throw new SafetensorsError('overlap', file, tensor.name,
        `data [${begin}, ${begin + tensor.byteLength}] overlaps tensor '${previous?.name}', which ends at ` +
        `${position - dataStart}`);
    }
    position += tensor.byteLength;
    previous = tensor;
  }
  if (position !== dataStart + dataSize) {
    throw new SafetensorsError('trailing-bytes', file, undefined,
      `the tensors end at data offset ${position - dataStart} but the data section is ${dataSize} bytes long ` +
      `(${dataStart + dataSize - position} trailing bytes)`);
  }
}

/** Short description of a JSON value for error messages. */
export function describeJson(value: JsonValue): string {
  if (value === null) return 'null';
  if (typeof value === 'number') return String(value);
  if (value instanceof JsonNumber) return value.text.length > 40 ? `${value.text.slice(0, 40)}…` : value.text;
  if (value instanceof Map) return 'an object';
  if (Array.isArray(value)) {
    const text = `[${value.map(describeJson).join(', ')}]`;
    return text.length > 60 ? 'an array' : text;
  }
  if (typeof value === 'string') return value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}…` : JSON.stringify(value);
  return String(value);
}
