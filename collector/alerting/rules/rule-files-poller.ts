import { stat } from 'node:fs/promises';

/**
 * Tells whether any rule file changed since the last look, from its stat
 * alone (device, inode, size, mtime, ctime): the collector polls every few
 * seconds and re-reads and re-validates the files only when one of them
 * changed, so an unchanged rule set costs one stat per file per poll. A file
 * replaced by rename (inode) or rewritten in place (size, mtime) both count.
 */
export class RuleFilesPoller {
  private readonly signatures = new Map<string, string>();

  constructor(private readonly files: readonly string[]) {}

  /** Records the current signatures and returns true when any differs from the previous call (the first call: true). */
  async changed(): Promise<boolean> {
    let changed = false;
    for (const file of this.files) {
      const signature = await signatureOf(file);
      if (this.signatures.get(file) !== signature) changed = true;
      this.signatures.set(file, signature);
    }
    return changed;
  }
}

async function signatureOf(file: string): Promise<string> {
  try {
    const info = await stat(file, { bigint: true });
    return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
  } catch (error) {
    // A missing file is a state too: it changes once when it goes and once when it comes back.
    return `error:${(error as NodeJS.ErrnoException).code ?? 'unknown'}`;
  }
}
