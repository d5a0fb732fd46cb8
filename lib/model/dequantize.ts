// A claq checkpoint folder turned back into a plain Hugging Face one.
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { ClaqCheckpoint } from '../checkpoint/claq-checkpoint.js';
import { dequantizeParts } from '../dequantize-parts.js';
import { checkOutputFolder, pathExists } from './output-folder.js';
import { writeSafetensors, type Dtype, type TensorToWrite } from '../safetensors/index.js';

const COPIED_FILES = [
  'config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json',
  'tokenizer.model',
];

/**
 * Writes `outDir` as a plain Hugging Face folder: every quantized layer of
 * the claq checkpoint in `dir` dequantized to float32 `<layer>.weight`, the
 * other tensors as they are, plus the config and tokenizer files. Built in a
 * temporary folder and renamed, like quantizeModel's output.
 *
 * @throws {ClaqError} `ERR_CLAQ_OUTPUT_EXISTS` when `outDir` exists and `overwrite` is not set, and
 *   `ERR_CLAQ_OUTPUT_PARENT_MISSING` when the folder that would contain `outDir` does not exist (both before any work).
 * @throws SafetensorsError when `dir` contains no valid claq checkpoint.
 */
export async function exportDequantized(dir: string, outDir: string,
  options: { overwrite?: boolean } = {}): Promise<{ layers: number; tensors: number }> {
  await checkOutputFolder('exportDequantized', outDir, options.overwrite === true);
  const checkpoint = await ClaqCheckpoint.open(dir);
  const temporary = join(dirname(outDir), `.${basename(outDir)}.tmp-${process.pid}-${Date.now()}`);
  try {
    const tensors: TensorToWrite[] = [];
    for (const [layer, { rows, cols }] of checkpoint.layers) {
      tensors.push({
        name: `${layer}.weight`, dtype: 'F32', shape: [rows, cols],
        data: async () => dequantizeParts(await checkpoint.loadLayer(layer)),
      });
    }
    for (const info of checkpoint.untouchedTensors()) {
      const dtype: Dtype = info.dtype === 'F16' || info.dtype === 'BF16' ? info.dtype : 'F32';
      tensors.push({ name: info.name, dtype, shape: info.shape, data: () => checkpoint.reader.readFloat32(info.name) });
    }
    await mkdir(temporary);
    await writeSafetensors(join(temporary, 'model.safetensors'), tensors, { metadata: { format: 'pt' } });
    for (const file of COPIED_FILES) {
      if (await pathExists(join(dir, file))) await copyFile(join(dir, file), join(temporary, file));
    }
    if (options.overwrite) await rm(outDir, { recursive: true, force: true });
    await rename(temporary, outDir);
    return { layers: checkpoint.layers.size, tensors: tensors.length };
  } finally {
    await checkpoint.close();
    await rm(temporary, { recursive: true, force: true });
  }
}
