// Runs every benchmark suite in bench/ (each compiled file but this one) in
// its own Node process, one after another, so no suite inherits another's
// heap, JIT state or thread pools. Arguments are passed to every suite.
//
//   npm run bench -- [--quick] [suite arguments]
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const self = basename(fileURLToPath(import.meta.url));
const suites = readdirSync(here).filter((f) => f.endsWith('.js') && f !== self).sort();

let failed = 0;
for (const suite of suites) {
  console.log(`\n=== bench/${suite.replace(/\.js$/, '.ts')} ===`);
  const child = spawnSync(process.execPath, [join(here, suite), ...process.argv.slice(2)], { stdio: 'inherit' });
  if (child.status !== 0) {
    console.error(`bench/${suite} failed with exit code ${child.status ?? child.signal}`);
    failed++;
  }
}
process.exitCode = failed === 0 ? 0 : 1;
