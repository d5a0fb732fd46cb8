// The only module that loads the compiled addon.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { NativeAddon } from '../types/native.js';

function findPackageRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'binding.gyp'))) {
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`claq: cannot find the package root (binding.gyp) above ${start}`);
    }
    dir = parent;
  }
  return dir;
}

function loadAddon(): NativeAddon {
  const root = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
  const path = join(root, 'build', 'Release', 'claq.node');
  if (!existsSync(path)) {
    throw new Error(`claq: the native addon is missing at ${path}. claq's install script builds it with ` +
      'node-gyp, and npm skips the install scripts of dependencies that the project has not approved (npm 12 ' +
      'does so by default): run "npm approve-scripts claq" and then "npm rebuild claq" in your project. In a ' +
      `clone of claq, run "npm install" or "npm run build" in ${root}.`);
  }
  const require = createRequire(import.meta.url);
  return require(path) as NativeAddon;
}

export const native: NativeAddon = loadAddon();

const warning = native.simdLevelWarning();
if (warning !== '') {
  process.emitWarning(warning, { code: 'CLAQ_SIMD_UNSUPPORTED' });
}
