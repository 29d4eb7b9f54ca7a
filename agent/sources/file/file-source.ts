import { constants } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import picomatch from 'picomatch';
import { glob } from 'tinyglobby';
import { SerialQueue } from '../../../shared/pipeline/serial-queue.js';
import type { Lifecycle } from '../../../shared/pipeline/types.js';
import type { StatusContribution, StatusReporter, StatusTableSpec } from '../../../shared/telemetry/status.js';
import { COMPRESSED_FILE_PATTERNS, type FileSourceConfig } from './config.js';
import { kubernetesMetadataFromPath } from './container/kubernetes-path.js';
import { fingerprint, type FingerprintOptions } from './file-identity.js';
import { Semaphore } from '../../../shared/pipeline/semaphore.js';
import { FileTailer, type TailerContext } from './file-tailer.js';
import type { LogSourceDeps } from '../source-factory.js';

/**
 * Finds files by glob and runs one tailer per file *identity* (not per path:
 * after a rename, the old file is still being finished while a new one
 * appears at the path). File-system events (chokidar) make new files and
 * growth visible at once; a periodic rescan is the safety net for events that
 * inotify drops or never sends (NFS, overflowing queues).
 */
/** The files the agent tails, on the status page. */
export const FILES_STATUS_TABLE: StatusTableSpec = {
  id: 'files',
  title: 'Files',
  key: ['source', 'file_id'],
  columns: [
    { key: 'source', label: 'source' },
    { key: 'path', label: 'path' },
    { key: 'file_id', label: 'identity' },
    { key: 'state', label: 'state' },
    { key: 'size', label: 'size', unit: 'bytes' },
    { key: 'read_offset', label: 'read', unit: 'bytes' },
    { key: 'acked_offset', label: 'acknowledged', unit: 'bytes' },
    { key: 'lag_bytes', label: 'lag', unit: 'bytes' },
    { key: 'idle_seconds', label: 'idle', unit: 'seconds' },
  ],
};

export class FileSource implements Lifecycle, StatusReporter {
  private readonly tailers = new Map<string, FileTailer>();
  /** The newest tailer started from each path, for waking it on change events. */
  private readonly tailerByPath = new Map<string, FileTailer>();
  /** Device and inode last seen at each path with the identity it had, to skip re-fingerprinting unchanged paths. */
  private readonly knownPaths = new Map<string, { deviceInode: string; identity: string }>();
  /** Paths refused by `follow_symlinks`, with the target they resolved to: counted and logged once per target. */
  private readonly refusedPaths = new Map<string, string>();
  /** Real paths of the directories symlink targets may lie in (`within_roots`); set by start(). */
  private allowedRoots: string[] = [];
  private readonly isIncluded: (path: string) => boolean;
  private readonly include: string[];
  private readonly exclude: string[];
  private readonly fingerprint: FingerprintOptions;
  private readonly limiter: Semaphore;
  private watcher: FSWatcher | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  /** Rescans, one at a time; a failed one is logged and the next still runs. */
  private readonly scans = new SerialQueue();
  private rescanQueued = false;
  private readonly stopSignal = new AbortController();
  private readonly context: TailerContext;

  constructor(
    readonly name: string,
    private readonly config: FileSourceConfig,
    private readonly deps: LogSourceDeps,
  ) {
    this.include = config.include.map((pattern) => resolve(pattern));
    this.exclude = [...config.exclude, ...(config.ignore_compressed ? COMPRESSED_FILE_PATTERNS : [])].map((pattern) =>
      pattern.startsWith('*') ? `**/${pattern}` : resolve(pattern),
    );
    const included = picomatch(this.include, { dot: true });
    const excluded = picomatch(this.exclude, { dot: true });
    this.isIncluded = (path) => included(path) && !excluded(path);
    this.fingerprint = {
      strategy: config.fingerprint.strategy,
      maxBytes: config.fingerprint.max_bytes,
      ignoredHeaderBytes: config.fingerprint.ignored_header_bytes,
    };
    this.limiter = new Semaphore(config.max_open_files);
    this.context = { sourceName: name, config, ...deps, limiter: this.limiter, fingerprint: this.fingerprint };
  }

  async start(): Promise<void> {
    const roots = [...new Set(this.include.map((pattern) => picomatch.scan(pattern).base || '/'))];
    // Real paths: a root that is itself a symlink (/var/log -> /data/log) must still contain its own files.
    this.allowedRoots = await Promise.all(
      [...roots, ...this.config.symlink_roots.map((root) => resolve(root))].map((root) => realpath(root).catch(() => root)),
    );
    await this.scan(true);
    this.watcher = watch(roots, {
      ignoreInitial: true,
      persistent: true,
      // Events only trigger rescans, which apply follow_symlinks to every path before reading it.
      followSymlinks: this.config.follow_symlinks !== 'never',
      // Only files we would tail are interesting; directories must pass so new ones are watched.
      ignored: (path, stats) => stats?.isFile() === true && !this.isIncluded(path),
    });
    this.watcher.on('add', () => this.requestRescan());
    this.watcher.on('change', (path) => this.onChange(path));
    this.watcher.on('unlink', (path) => this.onChange(path));
    this.watcher.on('error', (error) => this.deps.logger.warn({ source: this.name, err: error }, 'file watcher error; the periodic rescan covers it'));
    this.rescanTimer = setInterval(() => this.requestRescan(), this.config.poll_interval);
  }

  /** Whether a tailer is following this identity right now (its checkpoint must not expire). */
  isActive(identity: string): boolean {
    return this.tailers.has(identity);
  }

  private isStopped(): boolean {
    return this.stopSignal.signal.aborted;
  }

  async stop(): Promise<void> {
    if (this.isStopped()) return;
    this.stopSignal.abort();
    clearInterval(this.rescanTimer);
    await this.watcher?.close();
    await this.scans.idle();
    await Promise.all([...this.tailers.values()].map((tailer) => tailer.stop()));
  }

  private onChange(path: string): void {
    const tailer = this.tailerByPath.get(resolve(path));
    if (tailer) tailer.wake();
    else this.requestRescan();
  }

  /** Coalesces rescans: one runs at a time and at most one more is queued behind it. */
  private requestRescan(): void {
    if (this.rescanQueued || this.isStopped()) return;
    this.rescanQueued = true;
    void this.scans
      .run(() => {
        this.rescanQueued = false;
        return this.scan(false);
      })
      .catch((error: unknown) => {
        this.deps.metrics.error('io');
        this.deps.logger.warn({ source: this.name, err: error }, 'file scan failed');
      });
  }

  statusRows(): StatusContribution[] {
    const rows = [...this.tailers.values()].map((tailer) => tailer.statusRow()).sort((a, b) => String(a.path).localeCompare(String(b.path)));
    return [{ table: FILES_STATUS_TABLE, rows }];
  }

  private async scan(atStartup: boolean): Promise<void> {
    if (this.isStopped()) return;
    const paths = await glob(this.include, {
      ignore: this.exclude,
      absolute: true,
      onlyFiles: true,
      followSymbolicLinks: true,
      dot: true,
      expandDirectories: false,
    });
    const present = new Set<string>();
    for (const path of paths) {
      if (this.isStopped()) return;
      if (!this.isIncluded(path)) continue;
      present.add(path);
      await this.consider(path, atStartup);
    }
    for (const path of this.knownPaths.keys()) if (!present.has(path)) this.knownPaths.delete(path);
    for (const path of this.refusedPaths.keys()) if (!present.has(path)) this.refusedPaths.delete(path);
    for (const tailer of this.tailers.values()) this.deps.metrics.fileLag(tailer.path, tailer.lagBytes);
  }

  private async consider(path: string, atStartup: boolean): Promise<void> {
    const realPath = await this.allowedRealPath(path);
    if (realPath === undefined) return;
    let deviceInode: string;
    let size: number;
    try {
      const stats = await stat(realPath, { bigint: true });
      deviceInode = `${stats.dev}:${stats.ino}`;
      size = Number(stats.size);
    } catch {
      return; // vanished between listing and looking
    }
    const known = this.knownPaths.get(path);
    if (known?.deviceInode === deviceInode) {
      this.deps.checkpoints.markSeen(known.identity);
      // Only a tailer following this very path may answer for it: after copytruncate the old identity's tailer
      // follows the copy (app.log.1) while this path, same inode, already holds new content to identify.
      const tailer = this.tailerByPath.get(path);
      if (tailer?.identity === known.identity) {
        // A tailer waiting for Kafka reads no size of its own: without this the lag gauge would stay low while it is behind.
        tailer.observeSize(deviceInode, size);
        tailer.wake();
        return;
      }
      // Same inode, but its identity may have changed in place (copytruncate), so look again below.
    }
    const identity = await this.identify(path, realPath);
    if (identity === undefined) return; // first line not complete yet: no event could be read anyway
    this.knownPaths.set(path, { deviceInode, identity });
    this.deps.checkpoints.markSeen(identity);
    // A rotated file (or a symlink, or a copy) whose identity is already followed is that same file.
    if (this.tailers.has(identity)) return;
    const checkpoint = this.deps.checkpoints.get(identity);
    let offset: number;
    if (checkpoint && checkpoint.offset <= size) offset = checkpoint.offset;
    else if (checkpoint)
      offset = 0; // shorter than what was acknowledged: truncated while we were away (the tracker restarts the checkpoint)
    else offset = atStartup && this.config.start_at === 'end' ? size : 0;
    this.startTailer(identity, path, realPath, offset, checkpoint !== undefined);
  }

  /**
   * The real path to read `path` from, or undefined when `follow_symlinks` refuses it (counted and logged once per
   * target) or it vanished. Reading then opens the real path with O_NOFOLLOW, so a link planted in its place after
   * this check is not followed either.
   */
  private async allowedRealPath(path: string): Promise<string | undefined> {
    let realPath: string;
    try {
      realPath = await realpath(path);
    } catch {
      return undefined; // vanished, or a dangling link
    }
    const policy = this.config.follow_symlinks;
    const allowed =
      realPath === path ||
      policy === 'always' ||
      (policy === 'within_roots' && this.allowedRoots.some((root) => realPath === root || realPath.startsWith(root.endsWith(sep) ? root : root + sep)));
    if (allowed) {
      this.refusedPaths.delete(path);
      return realPath;
    }
    if (this.refusedPaths.get(path) !== realPath) {
      this.refusedPaths.set(path, realPath);
      this.deps.metrics.error('symlink_refused');
      this.deps.logger.warn(
        { source: this.name, path, target: realPath, follow_symlinks: policy },
        policy === 'never' ? 'not following a symlink (follow_symlinks: never)' : 'symlink target outside the include roots and symlink_roots; not read',
      );
    }
    return undefined;
  }

  private async identify(path: string, realPath: string): Promise<string | undefined> {
    try {
      const handle = await open(realPath, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        return await fingerprint(handle, this.fingerprint);
      } finally {
        await handle.close();
      }
    } catch (error) {
      this.deps.metrics.error('io');
      this.deps.logger.warn({ source: this.name, path, err: error }, 'cannot open file');
      return undefined;
    }
  }

  private startTailer(identity: string, path: string, realPath: string, offset: number, resumed: boolean): void {
    const kubernetes = this.config.kubernetes_metadata ? kubernetesMetadataFromPath(path) : undefined;
    const labels = kubernetes || Object.keys(this.config.labels).length > 0 ? { ...kubernetes, ...this.config.labels } : undefined;
    const tailer = new FileTailer(identity, path, realPath, offset, this.context, labels);
    this.tailers.set(identity, tailer);
    this.tailerByPath.set(path, tailer);
    this.deps.logger.info({ source: this.name, path, file_id: identity, offset, resumed }, 'tailing file');
    tailer.start();
    void tailer.finished.then(() => {
      this.tailers.delete(identity);
      if (this.tailerByPath.get(path) === tailer) this.tailerByPath.delete(path);
      this.deps.metrics.forgetFile(path);
      // The path may already hold the file that replaced the one just finished.
      this.requestRescan();
    });
  }
}
