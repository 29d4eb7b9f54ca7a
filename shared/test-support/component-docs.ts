import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';

/** The README's text, for tests that keep its "Component types" table in step with the registries. */
export function readme(): Promise<string> {
  return readFile(join(packageRoot(), 'README.md'), 'utf8');
}

/** The row of one component type in the README's "Component types" table (prettier pads the cells). */
export function componentRow(role: string, type: string, description: string): RegExp {
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`\\| ${literal(role)} +\\| \`${literal(type)}\` +\\| ${literal(description)} +\\|`);
}
