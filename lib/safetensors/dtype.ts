/**
 * The element types of the safetensors format that claq accepts, with their
 * size in bytes. Sub-byte types (F4, F6_*) are not accepted: their byte
 * length is not element count times a whole number of bytes.
 */
export const DTYPE_SIZES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  F8_E8M0: 1,
  C64: 8,
} as const;

export type Dtype = keyof typeof DTYPE_SIZES;

export const DTYPES: readonly Dtype[] = Object.keys(DTYPE_SIZES) as Dtype[];

export function isDtype(value: unknown): value is Dtype {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_SIZES, value);
}

export function dtypeSize(dtype: Dtype): number {
  return DTYPE_SIZES[dtype];
}
