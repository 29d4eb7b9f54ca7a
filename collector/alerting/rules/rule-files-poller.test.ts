import { mkdtemp, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RuleFilesPoller } from './rule-files-poller.js';

describe('RuleFilesPoller', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-rules-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('13.17: rule files are re-read only when their stat changes (in-place edit, replacement by rename, removal)', async () => {
    const file = join(dir, 'rules.yaml');
    await writeFile(file, 'groups: []\n');
    const poller = new RuleFilesPoller([file]);
    expect(await poller.changed()).toBe(true);
    // Unchanged: a poll every 5 s costs a stat, not a read and a validation.
    expect(await poller.changed()).toBe(false);
    expect(await poller.changed()).toBe(false);

    await writeFile(file, 'groups: [x]\n');
    expect(await poller.changed()).toBe(true);
    expect(await poller.changed()).toBe(false);

    // Replaced by rename with the same size and mtime (a ConfigMap update): the inode tells.
    const { atime, mtime } = await stat(file);
    const replacement = join(dir, 'rules.yaml.new');
    await writeFile(replacement, 'groups: [y]\n');
    await utimes(replacement, atime, mtime);
    await rename(replacement, file);
    expect(await poller.changed()).toBe(true);
    expect(await poller.changed()).toBe(false);

    await rm(file);
    expect(await poller.changed()).toBe(true);
    expect(await poller.changed()).toBe(false);
  });
});
