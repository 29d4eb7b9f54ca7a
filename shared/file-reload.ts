import { statSync, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { errorMessage } from './errors.js';

/**
 * Re-reading certificate files when they change, once for every TLS user (the telemetry server, the Kafka
 * client): a renewal (cert-manager, a rotated Kubernetes secret) takes effect without a restart, and a
 * half-finished one never does.
 */

/** Identity of a file's current content as far as stat can tell: a Kubernetes secret swap changes the inode. */
function versionOf(info: Stats): string {
  return `${info.ino}:${info.size}:${info.mtimeMs}`;
}

export async function fileVersion(path: string): Promise<string> {
  return versionOf(await stat(path));
}

/** The versions of several files as one string; rejects when one cannot be stat'ed. */
export async function filesVersion(paths: readonly string[]): Promise<string> {
  return (await Promise.all(paths.map(fileVersion))).join('|');
}

/** {@link filesVersion} for clients set up synchronously (kafkajs); '' when a file cannot be stat'ed. */
export function filesVersionSync(paths: readonly string[]): string {
  try {
    return paths.map((path) => versionOf(statSync(path))).join('|');
  } catch {
    return '';
  }
}

export interface FileReloadOptions<T> {
  /** The files that make up one state (certificate, key, CA). */
  paths: readonly string[];
  /** The version of `paths` when the state in use was read; '' when unknown (the first check reloads). */
  initialVersion: string;
  intervalMs: number;
  /**
   * Reads and checks the files together; rejects when they do not make a usable state (a new certificate
   * beside the old key fails here), so nothing half-renewed is applied.
   */
  load: () => Promise<T>;
  /** Puts a loaded state in use. */
  apply: (loaded: T) => void;
  /** After a state was applied. */
  onReloaded?: () => void;
  /** Files that changed and held still cannot be loaded: said once per state of the files; the old state stays. */
  onFailed: (message: string) => void;
}

/**
 * Checks the files every `intervalMs` and, when they changed, loads and applies them. Files replaced while they
 * were read (a renewal lands as several renames) may have given a mix of states: that read is dropped, and the
 * next check reads them again once they hold still. Only a failure of files that held still is reported, once
 * per state of the files. Returns the function that stops watching; the timer does not keep a process alive.
 */
export function watchFileReload<T>(options: FileReloadOptions<T>): () => void {
  const { paths } = options;
  let applied = options.initialVersion;
  let failed = '';
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void (async () => {
      const version = await filesVersion(paths).catch(() => 'unreadable');
      try {
        if (version === applied) return;
        const loaded = await options.load();
        if ((await filesVersion(paths)) !== version) return;
        options.apply(loaded);
        applied = version;
        options.onReloaded?.();
      } catch (error) {
        // A failure of files that changed meanwhile says nothing about their new state: the next check decides.
        if ((await filesVersion(paths).catch(() => 'unreadable')) !== version) return;
        if (version !== failed) options.onFailed(errorMessage(error));
        failed = version;
      } finally {
        running = false;
      }
    })();
  }, options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
