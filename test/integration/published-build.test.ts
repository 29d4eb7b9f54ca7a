import { readdir, readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * What `npm publish` ships is `dist/` (package.json `files`), built by `npm run build` before the suite runs.
 * Production code must not carry test fakes or need a devDependency at run time: an install without dev
 * dependencies would fail the first time such a module loads.
 */
const root = join(import.meta.dirname, '..', '..');
const dist = join(root, 'dist');

async function javascriptFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await javascriptFiles(path)));
    else if (entry.name.endsWith('.js')) files.push(path);
  }
  return files;
}

/** The package a bare specifier names (`@scope/name/sub` → `@scope/name`); undefined for relative and node: ones. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

describe('the published build', () => {
  it('holds no test fakes, test support or tests', async () => {
    const files = (await javascriptFiles(dist)).map((file) => relative(dist, file));
    expect(files.length).toBeGreaterThan(100);
    expect(files.filter((file) => /(^|\/)(fake-[^/]*|test-support(\.js|\/.*)|[^/]*\.test\.js|parser-contract\.js|adversarial-lines\.js)$/.test(file))).toEqual(
      [],
    );
  });

  it('imports only Node built-ins and runtime dependencies', async () => {
    const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const allowed = new Set([...Object.keys(manifest.dependencies), ...builtinModules]);
    const offending: string[] = [];
    for (const file of await javascriptFiles(dist)) {
      const text = await readFile(file, 'utf8');
      for (const match of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)) {
        const name = packageOf(match[1] ?? '');
        if (name !== undefined && !allowed.has(name)) offending.push(`${relative(dist, file)}: ${name}`);
      }
    }
    expect(offending).toEqual([]);
  });
});
