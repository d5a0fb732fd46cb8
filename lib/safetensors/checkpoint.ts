// openCheckpoint: one safetensors file, or a Hugging Face sharded checkpoint
// (a folder with model.safetensors.index.json), behind one TensorReader.
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { SafetensorsError } from './errors.js';
import { GIT_LFS_POINTER_PREFIX, type RowRange, SafetensorsFile, type TensorReader, toRecord } from './file.js';
import type { TensorInfo } from './header.js';
import { type JsonValue, JsonSyntaxError, parseStrictJson } from './strict-json.js';

export const SHARD_INDEX_NAME = 'model.safetensors.index.json';
const SINGLE_FILE_NAME = 'model.safetensors';

/**
 * Opens a checkpoint: a `.safetensors` file, a `*.safetensors.index.json`
 * shard index, or a folder holding `model.safetensors.index.json`,
 * `model.safetensors` or exactly one `.safetensors` file. A sharded
 * checkpoint opens every shard, validates each header, and checks that the
 * index lists every tensor of every shard exactly once.
 *
 * @example
 * const model = await openCheckpoint('models/llama');
 * const q = await model.readFloat32('model.layers.0.self_attn.q_proj.weight');
 * await model.close();
 * @throws SafetensorsError ('bad-index', 'bad-checkpoint' or a header rule).
 */
export async function openCheckpoint(fileOrDir: string): Promise<TensorReader> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(fileOrDir)).isDirectory();
  } catch (error) {
    throw new SafetensorsError('io', fileOrDir, undefined, `cannot open the checkpoint: ${(error as Error).message}`,
      { cause: error });
  }
  if (!isDirectory) {
    return fileOrDir.endsWith('.index.json') ? ShardedCheckpoint.open(fileOrDir) : SafetensorsFile.open(fileOrDir);
  }

  const names = await readdir(fileOrDir);
  if (names.includes(SHARD_INDEX_NAME)) return ShardedCheckpoint.open(join(fileOrDir, SHARD_INDEX_NAME));
  if (names.includes(SINGLE_FILE_NAME)) return SafetensorsFile.open(join(fileOrDir, SINGLE_FILE_NAME));
  const candidates = names.filter((name) => name.endsWith('.safetensors'));
  if (candidates.length === 1) return SafetensorsFile.open(join(fileOrDir, candidates[0]));
  throw new SafetensorsError('bad-checkpoint', fileOrDir, undefined, candidates.length === 0
    ? `no ${SHARD_INDEX_NAME} and no .safetensors file in the folder`
    : `no ${SHARD_INDEX_NAME} and ${candidates.length} .safetensors files (${candidates.sort().join(', ')}); ` +
      'open one of them directly');
}

/** The tensors of several shard files, listed by a Hugging Face index file. */
export class ShardedCheckpoint implements TensorReader {
  readonly metadata: Record<string, string>;

  private constructor(
    readonly path: string,
    private readonly shards: SafetensorsFile[],
    private readonly shardOf: Map<string, SafetensorsFile>,
  ) {
    const merged = new Map<string, string>();
    for (const shard of shards) {
      for (const [key, value] of Object.entries(shard.metadata)) if (!merged.has(key)) merged.set(key, value);
    }
    this.metadata = toRecord(merged);
  }

  /** Opens the index file at `indexPath` and every shard it names (in the same folder). */
  static async open(indexPath: string): Promise<ShardedCheckpoint> {
    const weightMap = await readWeightMap(indexPath);
    const folder = dirname(indexPath);
    const shardNames = [...new Set(weightMap.values())].sort();
    const shards = new Map<string, SafetensorsFile>();
    try {
      for (const shardName of shardNames) shards.set(shardName, await SafetensorsFile.open(join(folder, shardName)));
      const shardOf = matchIndexToShards(indexPath, weightMap, shards);
      return new ShardedCheckpoint(indexPath, [...shards.values()], shardOf);
    } catch (error) {
      await Promise.all([...shards.values()].map((shard) => shard.close()));
      throw error;
    }
  }

  tensors(): TensorInfo[] {
    return this.shards.flatMap((shard) => shard.tensors());
  }

  info(name: string): TensorInfo {
    return this.shard(name).info(name);
  }

  has(name: string): boolean {
    return this.shardOf.has(name);
  }

  readFloat32(name: string, rows?: RowRange): Promise<Float32Array> {
    return this.shard(name).readFloat32(name, rows);
  }

  readFloat64(name: string, rows?: RowRange): Promise<Float64Array> {
    return this.shard(name).readFloat64(name, rows);
  }

  readBytes(name: string, rows?: RowRange): Promise<Uint8Array> {
    return this.shard(name).readBytes(name, rows);
  }

  async close(): Promise<void> {
    await Promise.all(this.shards.map((shard) => shard.close()));
  }

  private shard(name: string): SafetensorsFile {
    const shard = this.shardOf.get(name);
    if (shard === undefined) {
      throw new SafetensorsError('tensor-not-found', this.path, name, 'no tensor of this name in the checkpoint');
    }
    return shard;
  }
}

// Reads `weight_map` (tensor name -> shard file name) from an index file.
// Shard names must be plain file names in the index's folder.
async function readWeightMap(indexPath: string): Promise<Map<string, string>> {
  let root: JsonValue;
  try {
    const text = await readFile(indexPath, 'utf8');
    if (text.startsWith(GIT_LFS_POINTER_PREFIX)) {
      throw new SafetensorsError('git-lfs-pointer', indexPath, undefined,
        'this is a Git LFS pointer file, not the index; fetch the real file with "git lfs pull"');
    }
    root = parseStrictJson(text);
  } catch (error) {
    if (error instanceof SafetensorsError) throw error;
    if (error instanceof JsonSyntaxError) {
      throw new SafetensorsError('bad-index', indexPath, error.duplicateKey, `invalid index JSON: ${error.message}`);
    }
    throw new SafetensorsError('io', indexPath, undefined, `cannot read the index: ${(error as Error).message}`,
      { cause: error });
  }
  const map = root instanceof Map ? root.get('weight_map') : undefined;
  if (!(map instanceof Map)) {
    throw new SafetensorsError('bad-index', indexPath, undefined, 'the index has no "weight_map" object');
  }
  const weightMap = new Map<string, string>();
  for (const [name, shardName] of map) {
    if (typeof shardName !== 'string' || shardName === '' || shardName !== basename(shardName) ||
        shardName === '.' || shardName === '..' || shardName.includes('\\')) {
      throw new SafetensorsError('bad-index', indexPath, name,
        `the shard name ${JSON.stringify(shardName)} must be a plain file name in the index's folder`);
    }
    weightMap.set(name, shardName);
  }
  return weightMap;
}

function matchIndexToShards(
  indexPath: string,
  weightMap: Map<string, string>,
  shards: Map<string, SafetensorsFile>,
): Map<string, SafetensorsFile> {
  const shardOf = new Map<string, SafetensorsFile>();
  for (const [name, shardName] of weightMap) {
    const shard = shards.get(shardName) as SafetensorsFile;
    if (!shard.has(name)) {
      throw new SafetensorsError('bad-index', indexPath, name, `the index puts the tensor in ${shardName}, which lacks it`);
    }
    shardOf.set(name, shard);
  }
  for (const [shardName, shard] of shards) {
    for (const tensor of shard.tensors()) {
      if (weightMap.get(tensor.name) !== shardName) {
        throw new SafetensorsError('bad-index', indexPath, tensor.name,
          `${shardName} stores the tensor but the index ${weightMap.has(tensor.name)
            ? `puts it in ${weightMap.get(tensor.name)}` : 'does not list it'}`);
      }
    }
  }
  return shardOf;
}
