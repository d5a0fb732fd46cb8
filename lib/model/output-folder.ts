// Checks made before long work that ends by writing a folder, so that a bad
// output path fails before the work starts instead of after it.
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ClaqError } from '../errors.js';

/** Returns whether `path` exists (any kind of file). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks that `outDir` can be published: it does not exist unless
 * `overwrite` is set, and the folder that will contain it exists.
 *
 * @throws {ClaqError} `ERR_CLAQ_OUTPUT_EXISTS` or `ERR_CLAQ_OUTPUT_PARENT_MISSING`.
 */
export async function checkOutputFolder(operation: string, outDir: string, overwrite: boolean): Promise<void> {
  if (!overwrite && await pathExists(outDir)) {
    throw new ClaqError('ERR_CLAQ_OUTPUT_EXISTS', `${operation}: ${outDir} exists; remove it or set overwrite`);
  }

  const parent = dirname(resolve(outDir));
  const info = await stat(parent).catch(() => null);
  if (info === null || !info.isDirectory()) {
    throw new ClaqError('ERR_CLAQ_OUTPUT_PARENT_MISSING',
      `${operation}: the folder ${parent} that would contain ${outDir} ${info === null ? 'does not exist' : 'is not a folder'}; create it first`);
  }
}
