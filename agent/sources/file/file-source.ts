import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import picomatch from 'picomatch';
import { glob } from 'tinyglobby';
import type { BatchConsumer, Lifecycle } from '../../../shared/pipeline/types.js';
import type { Logger } from '../../../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../../../shared/telemetry/metrics.js';
import type { CheckpointStore } from '../../checkpoint/checkpoint-store.js';
import type { FileSourceConfig } from './config.js';
import { FileTailer, type TailerContext } from './file-tailer.js';

export interface FileSourceDeps {
  agentId: string;
  host: string;
  consumer: BatchConsumer;
  checkpoints: CheckpointStore;
  metrics: ComponentMetrics;
  logger: Logger;
}

/**
 * Finds files by glob and runs one tailer per file. File-system events (chokidar)
 * make new files and growth visible at once; a periodic rescan is the safety net
 * for events that inotify drops or never sends (NFS, overflowing queues).
 */
export class FileSource implements Lifecycle {
  private readonly tailers = new Map<string, FileTailer>();
  private readonly activeIdentities = new Set<string>();
  private readonly isIncluded: (path: string) => boolean;
  private readonly include: string[];
  private readonly exclude: string[];
  private watcher: FSWatcher | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> = Promise.resolve();
  private readonly stopSignal = new AbortController();
  private readonly context: TailerContext;

  constructor(
    readonly name: string,
    private readonly config: FileSourceConfig,
    private readonly deps: FileSourceDeps,
  ) {
    this.include = config.include.map((pattern) => resolve(pattern));
    this.exclude = config.exclude.map((pattern) => resolve(pattern));
    const included = picomatch(this.include, { dot: true });
    const excluded = this.exclude.length > 0 ? picomatch(this.exclude, { dot: true }) : () => false;
    this.isIncluded = (path) => included(path) && !excluded(path);
    this.context = { sourceName: name, config, ...deps };
  }

  async start(): Promise<void> {
    await this.scan(true);
    const roots = [...new Set(this.include.map((pattern) => picomatch.scan(pattern).base || '/'))];
    this.watcher = watch(roots, {
      ignoreInitial: true,
      persistent: true,
      followSymlinks: true,
      // Only files we would tail are interesting; directories must pass so new ones are watched.
      ignored: (path, stats) => stats?.isFile() === true && !this.isIncluded(path),
    });
    this.watcher.on('add', (path) => this.onFileEvent(path));
    this.watcher.on('change', (path) => this.onFileEvent(path));
    this.watcher.on('error', (error) => this.deps.logger.warn({ source: this.name, err: error }, 'file watcher error; the periodic rescan covers it'));
    this.rescanTimer = setInterval(() => void this.rescan(), this.config.poll_interval);
  }

  /** A method, not a field read, so type narrowing does not assume it cannot change across awaits. */
  private isStopped(): boolean {
    return this.stopSignal.signal.aborted;
  }

  async stop(): Promise<void> {
    if (this.isStopped()) return;
    this.stopSignal.abort();
    clearInterval(this.rescanTimer);
    await this.watcher?.close();
    await this.scanning;
    await Promise.all([...this.tailers.values()].map((tailer) => tailer.stop()));
  }

  private onFileEvent(path: string): void {
    const absolute = resolve(path);
    const tailer = this.tailers.get(absolute);
    if (tailer) tailer.wake();
    else if (this.isIncluded(absolute)) void this.rescan();
  }

  private rescan(): Promise<void> {
    this.scanning = this.scanning
      .then(() => this.scan(false))
      .catch((error: unknown) => {
        this.deps.metrics.error('io');
        this.deps.logger.warn({ source: this.name, err: error }, 'file scan failed');
      });
    return this.scanning;
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
    for (const path of paths) {
      if (this.isStopped()) return;
      if (this.tailers.has(path) || !this.isIncluded(path)) {
        this.tailers.get(path)?.wake();
        continue;
      }
      await this.startTailer(path, atStartup);
    }
    for (const tailer of this.tailers.values()) this.deps.metrics.fileLag(tailer.path, tailer.lagBytes);
  }

  private async startTailer(path: string, atStartup: boolean): Promise<void> {
    let identity: string;
    try {
      const stats = await stat(path, { bigint: true });
      identity = `${stats.dev}:${stats.ino}`;
    } catch {
      return; // vanished between listing and opening
    }
    // A rotated file that still matches the globs is already being finished by its tailer.
    if (this.activeIdentities.has(identity)) return;
    const tailer = new FileTailer(path, this.context, atStartup && this.config.start_at === 'end');
    try {
      await tailer.start();
    } catch (error) {
      this.deps.metrics.error('io');
      this.deps.logger.warn({ source: this.name, path, err: error }, 'cannot open file');
      return;
    }
    this.tailers.set(path, tailer);
    this.activeIdentities.add(identity);
    void tailer.finished.then(() => {
      this.tailers.delete(path);
      this.activeIdentities.delete(identity);
      this.deps.metrics.forgetFile(path);
      // The path may already hold the file that replaced the one just finished.
      if (!this.isStopped()) void this.rescan();
    });
  }
}
