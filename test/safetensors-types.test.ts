// Compile-time checks of the public safetensors and checkpoint types: tsc
// compiles this file before jest runs, and each @ts-expect-error line fails
// the build if the call it marks starts to type-check.
import {
  ClaqCheckpoint,
  SafetensorsError,
  SafetensorsFile,
  loadQuantizedParts,
  openCheckpoint,
  writeSafetensors,
} from '../lib/index.js';
import type { Dtype, QuantizedParts, TensorInfo, TensorReader, TensorToWrite } from '../lib/index.js';

// Never called: the bodies only need to type-check.
async function typeChecks(file: SafetensorsFile, reader: TensorReader): Promise<void> {
  const floats: Float32Array = await file.readFloat32('w', { start: 0, end: 1 });
  const doubles: Float64Array = await reader.readFloat64('h');
  const bytes: Uint8Array = await reader.readBytes('b');
  const info: TensorInfo = reader.info('w');
  const dtype: Dtype = info.dtype;
  const metadata: Record<string, string> = file.metadata;
  const opened: TensorReader = await openCheckpoint('folder');
  const parts: QuantizedParts = await loadQuantizedParts('layer.safetensors');
  const checkpoint: ClaqCheckpoint = await ClaqCheckpoint.open('model');
  const tensor: TensorToWrite = { name: 'x', dtype: 'F16', shape: [2], data: new Float32Array(2) };
  await writeSafetensors('out.safetensors', [tensor], { metadata: { format: 'pt' }, overwrite: true });

  // @ts-expect-error readFloat64 returns a Float64Array
  const wrong: Float32Array = await file.readFloat64('h');
  // @ts-expect-error dtypes are a closed set
  const unknown: TensorToWrite = { name: 'x', dtype: 'F128', shape: [], data: new Uint8Array(16) };
  // @ts-expect-error metadata values are strings
  await writeSafetensors('out.safetensors', [], { metadata: { step: 3 } });
  // @ts-expect-error a row range has start and end
  await file.readFloat32('w', { start: 0 });

  void [floats, doubles, bytes, dtype, metadata, opened, parts, checkpoint, wrong, unknown];
}

test('SafetensorsError carries code, reason, file and tensor', () => {
  const error = new SafetensorsError('gap', 'a.safetensors', 'w', 'data begins at offset 4');
  expect(error.code).toBe('ERR_CLAQ_SAFETENSORS');
  expect(error.reason).toBe('gap');
  expect(error.message).toBe("a.safetensors, tensor 'w': data begins at offset 4 [gap]");
  expect(typeof typeChecks).toBe('function');
});
