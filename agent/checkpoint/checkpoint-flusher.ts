import { errorMessage } from '../../shared/errors.js';
import { backoffDelay, type BackoffPolicy } from '../../shared/pipeline/backoff.js';
import type { Logger } from '../../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../../shared/telemetry/metrics.js';
import type { CheckpointStore } from './checkpoint-store.js';

/** The longest pause between attempts while writes keep failing: a fixed disk is noticed within this. */
const MAX_RETRY_DELAY_MS = 30_000;

export interface CheckpointFlusherOptions {
  intervalMs: number;
  expireAfterMs: number;
  /** A file still being read keeps its checkpoint whatever its age. */
  isActive(fileId: string): boolean;
  metrics: ComponentMetrics;
  logger: Logger;
  /** Delay before retrying after consecutive failures; defaults to the interval doubling up to 30 s. */
  backoff?: BackoffPolicy;
  now?: () => number;
}

/**
 * Writes the checkpoint registry every interval. A failed write (disk full, EACCES, a read-only
 * remount) is counted (`reason="checkpoint"`), logged, and retried with backoff until it succeeds; the
 * registry stays dirty meanwhile, so nothing acknowledged is forgotten, and `tributary_checkpoint_age_seconds`
 * keeps growing so the failure is visible on a dashboard long before a restart would re-read too much.
 */
export class CheckpointFlusher {
  private readonly backoff: BackoffPolicy;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private consecutiveFailures = 0;
  private nextAttemptAt = 0;

  constructor(
    private readonly store: CheckpointStore,
    private readonly options: CheckpointFlusherOptions,
  ) {
    this.backoff = options.backoff ?? { initialMs: options.intervalMs, maxMs: Math.max(options.intervalMs, MAX_RETRY_DELAY_MS) };
    this.now = options.now ?? Date.now;
  }

  /** Failed attempts since the last successful write. */
  get failures(): number {
    return this.consecutiveFailures;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.options.intervalMs);
  }

  /** Stops the timer and waits for a write in progress; the final write is the caller's (`store.flush()`). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  /** One interval: forget long-gone files, then write unless backing off after a failure. Never rejects. */
  tick(): Promise<void> {
    // A slow disk must not stack writes up behind each other; the next tick covers what this one missed.
    this.inFlight ??= this.attempt().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async attempt(): Promise<void> {
    const { options } = this;
    const expired = this.store.expire(options.expireAfterMs, (fileId) => options.isActive(fileId), this.now());
    if (expired.length > 0) options.logger.info({ expired: expired.length }, 'forgot checkpoints of files gone for longer than checkpoint_expire_after');
    if (this.now() < this.nextAttemptAt) {
      options.metrics.checkpointAge.set(this.store.secondsSinceWrite);
      return;
    }
    try {
      await this.store.flush();
      if (this.consecutiveFailures > 0) options.logger.info({ failed_attempts: this.consecutiveFailures }, 'checkpoint write succeeded again');
      this.consecutiveFailures = 0;
      this.nextAttemptAt = 0;
      options.metrics.checkpointAge.set(0);
    } catch (error) {
      const delayMs = backoffDelay(this.consecutiveFailures, this.backoff);
      this.consecutiveFailures++;
      this.nextAttemptAt = this.now() + delayMs;
      options.metrics.error('checkpoint');
      options.metrics.checkpointAge.set(this.store.secondsSinceWrite);
      options.logger.error(
        { err: errorMessage(error), failed_attempts: this.consecutiveFailures, retry_in_ms: delayMs },
        'checkpoint write failed; retrying with backoff (acknowledged offsets are kept in memory meanwhile)',
      );
    }
  }
}
