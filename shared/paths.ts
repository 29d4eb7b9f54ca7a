import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'tributary';

let cachedRoot: string | undefined;

/**
 * The directory holding tributary's own package.json.
 *
 * Files that ship beside the code (deploy/, fixtures) must be found the same
 * way whether this module runs from source (vitest, `shared/paths.ts`) or
 * compiled (`dist/shared/paths.js`), so we walk up instead of counting `..`.
 * The name check skips unrelated package.json files on the way, e.g. one in
 * node_modules when tributary itself is installed as a dependency.
 */
export function packageRoot(from: string | URL = import.meta.url): string {
  const useCache = from === import.meta.url;
  if (useCache && cachedRoot !== undefined) return cachedRoot;

  const start = typeof from === 'string' && !from.startsWith('file:') ? from : fileURLToPath(from);
  let dir = dirname(start);
  for (;;) {
    if (isTributaryPackage(join(dir, 'package.json'))) {
      if (useCache) cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`no package.json with "name": "${PACKAGE_NAME}" above ${start}`);
    }
    dir = parent;
  }
}

function isTributaryPackage(file: string): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && (parsed as { name?: unknown }).name === PACKAGE_NAME;
  } catch {
    // A malformed package.json on the way up is not ours; keep walking.
    return false;
  }
}
