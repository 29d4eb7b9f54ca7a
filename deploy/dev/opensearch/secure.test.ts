import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { packageRoot } from '../../../shared/paths.js';
import { SINK_ROLE } from './secure.js';

describe('the minimal role of the Elasticsearch output', () => {
  it('is printed in the README exactly as the secured dev node (and so the security test) grants it', async () => {
    const readme = await readFile(path.join(packageRoot(), 'README.md'), 'utf8');
    const block = /```yaml\n(tributary_writer:\n[\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    expect(parse(block as string)).toEqual({ tributary_writer: SINK_ROLE });
  });
});
