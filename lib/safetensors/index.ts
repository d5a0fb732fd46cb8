export { SafetensorsError } from './errors.js';
export type { SafetensorsReason } from './errors.js';
export { DTYPES, DTYPE_SIZES, dtypeSize, isDtype } from './dtype.js';
export type { Dtype } from './dtype.js';
export { MAX_HEADER_LENGTH, METADATA_KEY } from './header.js';
export type { TensorInfo } from './header.js';
export { GIT_LFS_POINTER_PREFIX, SafetensorsFile } from './file.js';
export type { RowRange, TensorReader } from './file.js';
export type { ByteSource } from './byte-source.js';
export { SHARD_INDEX_NAME, ShardedCheckpoint, openCheckpoint } from './checkpoint.js';
export {
  bfloat16BytesToFloat32,
  float16BytesToFloat32,
  float32ToBfloat16Bytes,
  float32ToFloat16Bytes,
} from './convert.js';
export { writeSafetensors } from './writer.js';
export type { TensorData, TensorToWrite, WriteSafetensorsOptions } from './writer.js';
