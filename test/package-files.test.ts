// The published package: every relative import of the emitted JavaScript and
// declaration files resolves to a file that package.json's "files" ships, so
// that a TypeScript project with skipLibCheck off gets every type.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function shippedFolders(): string[] {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[] };
  return manifest.files;
}

function filesUnder(folder: string, suffix: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith(suffix))
    .map((name) => join(folder, name));
}

// The relative module specifiers of `import ... from '...'` and
// `export ... from '...'` in one emitted file.
function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/\bfrom\s+'(\.{1,2}\/[^']+)'/g)].map((match) => match[1]);
}

function isShipped(path: string, folders: string[]): boolean {
  const inside = relative(root, path);
  return folders.some((entry) => inside === entry || inside.startsWith(`${entry}/`));
}

describe('published package', () => {
  const folders = shippedFolders();

  test.each([['.d.ts', '.d.ts'], ['.js', '.js']])('imports of %s files resolve to shipped files', (suffix, target) => {
    const emitted = filesUnder(join(root, 'dist', 'lib'), suffix);
    expect(emitted.length).toBeGreaterThan(10);
    const missing: string[] = [];
    for (const file of emitted) {
      for (const specifier of relativeImports(file)) {
        const resolved = resolve(dirname(file), specifier.replace(/\.js$/, target));
        if (!existsSync(resolved) || !isShipped(resolved, folders)) missing.push(`${relative(root, file)}: ${specifier}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
