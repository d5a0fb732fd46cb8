// Locates ../shared/data/stories260k beside the repository. Tests that need
// it call storiesDir(): where the folder is absent they skip with a reason,
// except under CI=true, where its absence is a failure.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const STORIES_DIR = process.env.CLAQ_STORIES_DIR ?? join(repoRoot, '..', 'shared', 'data', 'stories260k');

/** Returns the data folder, or null (with a console note) when it is missing outside CI. */
export function storiesDir(): string | null {
  if (existsSync(join(STORIES_DIR, 'hf', 'model.safetensors'))) return STORIES_DIR;
  if (process.env.CI === 'true') {
    throw new Error(`stories260k data not found at ${STORIES_DIR}; CI must provide it (or set CLAQ_STORIES_DIR)`);
  }
  console.warn(`skipping: stories260k data not found at ${STORIES_DIR} (set CLAQ_STORIES_DIR)`);
  return null;
}

/** `test` when the data is present, `test.skip` otherwise. */
export const testWithStories = storiesDir() === null ? test.skip : test;
