import { errorMessage } from '../../../shared/errors.js';
import { retryAfterMs } from '../../../shared/http/retry-after.js';
import { sleep } from '../../../shared/pipeline/backoff.js';
import { retry } from '../../../shared/pipeline/retry.js';
import type { AlertRecord } from '../../../shared/record/alert-record.js';
import type { Logger } from '../../../shared/telemetry/logger.js';
import type { NotifierMetrics } from '../alerting-metrics.js';
import type { HttpDeliveryConfig } from './config.js';
import type { HttpResponse, NotifierHttpClient, Target } from './http-client.js';
import type { AlertNotifier } from './notifier.js';

/** Response bodies are logged up to this size (they explain a 400: which label was invalid). */
const LOGGED_BODY_CHARS = 1_000;

export interface NotifierDependencies {
  metrics: NotifierMetrics;
  logger: Logger;
  /** Wall clock for `endsAt`; tests pin it. */
  now?: () => number;
  /** Jitter source for backoff; tests pin it. */
  random?: () => number;
}

/** A send that failed in a way worth retrying (5xx, 408, 429, a 401 before the credentials were re-read, no answer). */
class FailedSend extends Error {
  constructor(
    message: string,
    /** The receiver's Retry-After, if it sent one it could read. */
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
    this.name = 'FailedSend';
  }
}

/**
 * The delivery machinery of the HTTP notifiers: a bounded FIFO queue that
 * `notify` appends to (dropping the oldest on overflow), one background loop
 * sending batches of up to `max_batch_size`, and per-target retries with
 * exponential backoff and full jitter that honor Retry-After. Every alert
 * that enters the queue is counted exactly once: sent, failed or dropped.
 */
export abstract class QueuedNotifier implements AlertNotifier {
  private queue: AlertRecord[] = [];
  private inFlight = 0;
  /** Alerts ever enqueued, and ever settled (sent, failed or dropped); FIFO order makes "settled ≥ n" mean "the first n are done". */
  private enqueued = 0;
  private settled = 0;
  private flushWaiters: Array<{ until: number; resolve: () => void }> = [];
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private readonly abort = new AbortController();
  /** Aborted when stop() begins, so backoff sleeps end and the rest of the queue gets one last attempt. */
  private readonly draining = new AbortController();
  protected readonly metrics: NotifierMetrics;
  protected readonly logger: Logger;
  protected readonly now: () => number;
  private readonly random: () => number;

  protected constructor(
    readonly id: string,
    protected readonly config: HttpDeliveryConfig,
    protected readonly http: NotifierHttpClient,
    dependencies: NotifierDependencies,
  ) {
    this.metrics = dependencies.metrics;
    this.logger = dependencies.logger;
    this.now = dependencies.now ?? Date.now;
    this.random = dependencies.random ?? Math.random;
  }

  /** Whether this receiver is told about a record at all (Alertmanager never hears of pending alerts). */
  protected abstract accepts(record: AlertRecord): boolean;

  /** Delivers one batch to every target; true when it counts as sent. */
  protected abstract deliver(batch: readonly AlertRecord[], signal: AbortSignal): Promise<boolean>;

  async start(): Promise<void> {
    if (this.loop) return;
    await this.http.open();
    this.loop = this.run();
  }

  notify(alerts: readonly AlertRecord[]): void {
    const accepted = alerts.filter((alert) => this.accepts(alert));
    if (accepted.length === 0) return;
    this.enqueued += accepted.length;
    if (this.stopping) {
      this.logger.warn({ notifier: this.id, alerts: accepted.length }, 'alerts notified after stop were dropped');
      this.settle('dropped', accepted.length);
      return;
    }
    this.queue.push(...accepted);
    const overflow = this.queue.length - this.config.queue_capacity;
    if (overflow > 0) {
      // The newest state of an alert matters most; the oldest records are the ones a later record supersedes.
      this.queue.splice(0, overflow);
      this.logger.warn({ notifier: this.id, dropped: overflow, capacity: this.config.queue_capacity }, 'notification queue full: dropped the oldest alerts');
      this.settle('dropped', overflow);
    }
    this.updateQueueLength();
    this.wake?.();
  }

  flush(): Promise<void> {
    const until = this.enqueued;
    if (this.settled >= until) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push({ until, resolve }));
  }

  /**
   * Stops taking alerts and drains: what is queued gets one more attempt
   * without backoff, for at most `timeout`; what is still undelivered then is
   * counted as dropped. Idempotent.
   */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.draining.abort();
      this.wake?.();
    }
    if (this.loop) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.config.timeout)));
      await Promise.race([this.loop, deadline]);
      clearTimeout(timer);
      this.abort.abort();
      await this.loop;
    } else if (this.queue.length > 0) {
      this.settle('dropped', this.queue.length);
      this.queue = [];
    }
    this.updateQueueLength();
    this.http.close();
  }

  private async run(): Promise<void> {
    for (;;) {
      if (this.abort.signal.aborted) {
        if (this.queue.length > 0) {
          this.logger.warn({ notifier: this.id, dropped: this.queue.length }, 'alerts still queued at shutdown were dropped');
          this.settle('dropped', this.queue.length);
          this.queue = [];
        }
        return;
      }
      if (this.queue.length === 0) {
        if (this.stopping) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      const batch = this.queue.splice(0, this.config.max_batch_size);
      this.inFlight = batch.length;
      let sent = false;
      try {
        sent = await this.deliver(batch, this.abort.signal);
      } catch (error) {
        // deliver() classifies HTTP outcomes itself; reaching here is a bug, still counted rather than lost.
        this.logger.error({ notifier: this.id, err: errorMessage(error) }, 'notification failed unexpectedly');
      }
      this.inFlight = 0;
      // A batch cut short by the shutdown deadline was not refused by the receiver: it counts as dropped, not failed.
      this.settle(sent ? 'sent' : this.shutDown() ? 'dropped' : 'failed', batch.length);
    }
  }

  /** A method, not the property inline: the compiler would keep the loop's earlier narrowing of `aborted` across the await. */
  private shutDown(): boolean {
    return this.abort.signal.aborted;
  }

  private settle(outcome: 'sent' | 'failed' | 'dropped', alerts: number): void {
    this.metrics.count(outcome, alerts);
    this.settled += alerts;
    this.updateQueueLength();
    const ready = this.flushWaiters.filter((waiter) => waiter.until <= this.settled);
    if (ready.length === 0) return;
    this.flushWaiters = this.flushWaiters.filter((waiter) => waiter.until > this.settled);
    for (const waiter of ready) waiter.resolve();
  }

  private updateQueueLength(): void {
    this.metrics.queueLength(this.queue.length + this.inFlight);
  }

  /**
   * Sends one body to one target until it is accepted (2xx), rejected (4xx
   * other than 408/429: logged with the response body, no retry, since the
   * same body would be rejected again), or `retry.max_attempts` sends failed
   * (5xx, 408, 429, connection errors, timeouts). A 401 re-reads secret files
   * once before it counts. True when accepted.
   */
  protected async sendWithRetry(
    target: Target,
    method: string,
    body: string,
    headers: Readonly<Record<string, string>>,
    alerts: number,
    signal: AbortSignal,
  ): Promise<boolean> {
    const { max_attempts: maxAttempts, initial_backoff: initialMs, max_backoff: maxMs } = this.config.retry;
    let reloaded = false;
    let attempts = 0;
    try {
      return await retry(
        async (attempt) => {
          attempts = attempt;
          const endTimer = this.metrics.startRequest();
          let response: HttpResponse;
          try {
            response = await this.http.send(target, method, body, headers, signal);
          } catch (error) {
            endTimer();
            throw new FailedSend(errorMessage(error), undefined);
          }
          endTimer();
          if (response.status >= 200 && response.status < 300) return true;
          if (response.status === 401 && !reloaded) {
            reloaded = true;
            await this.http
              .reloadCredentials()
              .catch((error: unknown) => this.logger.error({ notifier: this.id, err: errorMessage(error) }, 'reloading credentials failed'));
          } else if (response.status !== 408 && response.status !== 429 && response.status < 500) {
            this.logger.error(
              { notifier: this.id, target: target.display, status: response.status, body: response.body.slice(0, LOGGED_BODY_CHARS), alerts },
              'receiver rejected alerts',
            );
            return false;
          }
          throw new FailedSend(
            `HTTP ${response.status}: ${response.body.slice(0, LOGGED_BODY_CHARS)}`,
            retryAfterMs(response.headers['retry-after'], this.now()),
          );
        },
        {
          policy: { initialMs, maxMs, maxAttempts },
          signal,
          // Once stop() began, the attempt it cut the wait short for was the last.
          classify: () => (this.stopping ? 'fail' : 'retry'),
          // The receiver's Retry-After replaces the backoff (capped, see retryAfterMs).
          delayMs: (backoffMs, error) => (error instanceof FailedSend ? (error.retryAfterMs ?? backoffMs) : backoffMs),
          onRetry: (attempt, delayMs, error) =>
            this.logger.warn(
              { notifier: this.id, target: target.display, attempt, error: errorMessage(error), retry_in_ms: delayMs },
              'notification failed, retrying',
            ),
        },
        this.random,
        // stop() ends the wait (not the retrying): what is queued gets one more attempt without backoff.
        (ms) => sleep(ms, AbortSignal.any([signal, this.draining.signal])),
      );
    } catch (error) {
      if (signal.aborted) return false;
      this.logger.error({ notifier: this.id, target: target.display, attempts, error: errorMessage(error), alerts }, 'giving up on notification');
      return false;
    }
  }
}
