import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * A temporary root holding fake /proc and /sys files for the collectors'
 * tests (they take their roots as options). No vitest here, so it builds with
 * the rest; tests call create/remove from beforeEach/afterEach.
 */
export class FixtureTree {
  private root: string | undefined;

  get dir(): string {
    if (this.root === undefined) throw new Error('FixtureTree used before create()');
    return this.root;
  }

  async create(prefix: string): Promise<void> {
    this.root = await mkdtemp(join(tmpdir(), prefix));
  }

  /** Writes files by path relative to the root, creating directories. */
  async write(files: Record<string, string>): Promise<void> {
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(this.dir, path)), { recursive: true });
      await writeFile(join(this.dir, path), content);
    }
  }

  async remove(): Promise<void> {
    if (this.root !== undefined) await rm(this.root, { recursive: true, force: true });
    this.root = undefined;
  }
}
