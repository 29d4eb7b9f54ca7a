import type { Logger } from '../../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../../shared/telemetry/metrics.js';
import { CheckpointFlusher } from './checkpoint-flusher.js';
import { CheckpointStore } from './checkpoint-store.js';

export interface CheckpointPersistenceOptions {
  /** `agent.checkpoint_interval`: how often the registry is written while it changes. */
  intervalMs: number;
  /** `agent.checkpoint_expire_after`: how long a file no longer seen keeps its checkpoint. */
  expireAfterMs: number;
}

export interface CheckpointWriting {
  /** A file still being read keeps its checkpoint whatever its age. */
  isActive(fileId: string): boolean;
  /** Created by the caller only once there are checkpoints to write, so an agent without files shows no such series. */
  metrics: ComponentMetrics;
  logger: Logger;
}

/**
 * The agent's checkpoints on disk, from loading at start to the last write at stop: the registry
 * (`checkpoints.json` in `agent.data_dir`) and the flusher that writes it every interval, retrying with
 * backoff when the disk refuses. Offsets reach the store only through the acknowledgement trackers
 * (`CheckpointStore.track`); this module decides only when they are written.
 */
export class CheckpointPersistence {
  readonly store: CheckpointStore;
  private flusher: CheckpointFlusher | undefined;

  constructor(
    dataDir: string,
    private readonly options: CheckpointPersistenceOptions,
  ) {
    this.store = CheckpointStore.forDataDir(dataDir);
  }

  /** Reads what the previous run acknowledged; sources must not start before it did. */
  load(): Promise<void> {
    return this.store.load();
  }

  /** Starts the periodic writes (once the sources run: they decide which files are active). */
  start(writing: CheckpointWriting): void {
    const { intervalMs, expireAfterMs } = this.options;
    this.flusher ??= new CheckpointFlusher(this.store, { intervalMs, expireAfterMs, ...writing });
    this.flusher.start();
  }

  /**
   * Stops the periodic writes and writes what is left. Called once the sources stopped and the output
   * drained, so the last acknowledgements are in the store; a failed final write rejects (the caller's
   * drain reports it), and the next start re-reads from the last checkpoint that was written.
   */
  async stop(): Promise<void> {
    await this.flusher?.stop();
    await this.store.flush();
  }
}
