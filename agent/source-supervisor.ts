import { errorMessage } from '../shared/errors.js';
import { backoffDelay, sleep, type BackoffPolicy } from '../shared/pipeline/backoff.js';
import type { Lifecycle } from '../shared/pipeline/types.js';
import { runOwnedBy, type ComponentHealth } from '../shared/telemetry/component-health.js';
import type { Logger } from '../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../shared/telemetry/metrics.js';
import { isStatusReporter, type StatusContribution, type StatusReporter } from '../shared/telemetry/status.js';

export type NamedSource = Lifecycle & { readonly name: string };

export interface SupervisorDeps {
  health: ComponentHealth;
  /** The source's own metrics: failures are counted there with `reason="component_failed"`. */
  metrics: ComponentMetrics;
  logger: Logger;
  /** Delay before restart n (doubling from `initialMs` up to `maxMs`). */
  backoff?: BackoffPolicy;
  /** A source that ran this long without failing starts the backoff over. */
  stableAfterMs?: number;
  /** How long a failed source may take to stop before its replacement starts anyway. */
  stopTimeoutMs?: number;
}

const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 60_000 };
const DEFAULT_STABLE_AFTER_MS = 5 * 60_000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
/** Restarts are local, not many clients hitting one server: the full backoff, no jitter. */
const NO_JITTER = () => 1;

/**
 * One supervisor per source, so no source can take the agent down. Everything the source does runs
 * owned by its supervisor (see `runOwnedBy`): an exception or rejection that escapes the source's own
 * handling reaches the process guard, which hands it here. The supervisor counts it, marks the source
 * failed (the agent is not ready and /healthz names it), stops the failed instance and starts a fresh one
 * from the factory after a growing delay, while the other sources keep running. Errors from an instance
 * already replaced are counted and logged but do not restart its successor.
 */
export class SourceSupervisor<Source extends NamedSource> implements Lifecycle, StatusReporter {
  private source: Source;
  private generation = 0;
  private consecutiveFailures = 0;
  private lastStartAt = 0;
  private restarting: Promise<void> | undefined;
  /** The current instance failed and was not replaced (yet): stop it without trusting it. */
  private instanceFailed = false;
  private readonly stopSignal = new AbortController();
  private readonly backoff: BackoffPolicy;
  private readonly stableAfterMs: number;
  private readonly stopTimeoutMs: number;

  constructor(
    readonly name: string,
    private readonly create: () => Source,
    private readonly deps: SupervisorDeps,
  ) {
    this.source = create();
    this.backoff = deps.backoff ?? DEFAULT_BACKOFF;
    this.stableAfterMs = deps.stableAfterMs ?? DEFAULT_STABLE_AFTER_MS;
    this.stopTimeoutMs = deps.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  }

  /** The running instance's status rows, if it reports any (a restarted instance starts its own afresh). */
  statusRows(): readonly StatusContribution[] {
    return isStatusReporter(this.source) ? this.source.statusRows() : [];
  }

  /** The running instance (a new one after each restart). */
  get current(): Source {
    return this.source;
  }

  get component(): string {
    return `source.${this.name}`;
  }

  /** Failures since the source last ran for `stableAfterMs`. */
  get failures(): number {
    return this.consecutiveFailures;
  }

  /** The first start's errors propagate: a source that cannot start at all is a start-up error. */
  async start(): Promise<void> {
    await this.startCurrent();
  }

  private startCurrent(): Promise<void> {
    const generation = ++this.generation;
    const owner = { component: this.component, fail: (error: unknown) => this.fail(error, generation) };
    this.lastStartAt = Date.now();
    return runOwnedBy(owner, () => this.source.start());
  }

  /** A failure of instance `generation`; called through the process guard. */
  fail(error: unknown, generation = this.generation): void {
    this.deps.metrics.error('component_failed');
    if (generation !== this.generation || this.restarting !== undefined || this.stopSignal.signal.aborted) {
      this.deps.logger.warn({ err: errorMessage(error), component: this.component }, 'error from a source instance already being replaced or stopped');
      return;
    }
    this.instanceFailed = true;
    this.restarting = this.restart(error).finally(() => (this.restarting = undefined));
  }

  /** Replaces the failed instance, again and again with growing delays while the new ones fail to start. */
  private async restart(failure: unknown): Promise<void> {
    const { deps } = this;
    let error = failure;
    for (;;) {
      if (Date.now() - this.lastStartAt >= this.stableAfterMs) this.consecutiveFailures = 0;
      const delayMs = backoffDelay(this.consecutiveFailures, this.backoff, NO_JITTER);
      this.consecutiveFailures++;
      deps.health.fail(this.component, error, this.consecutiveFailures);
      deps.logger.error(
        { err: errorMessage(error), component: this.component, failures: this.consecutiveFailures, restart_in_ms: delayMs },
        'source failed; restarting it (the other sources keep running)',
      );
      await this.stopWithin(this.source);
      await sleep(delayMs, this.stopSignal.signal);
      if (this.stopSignal.signal.aborted) return;
      this.source = this.create();
      try {
        await this.startCurrent();
        this.instanceFailed = false;
        deps.health.recover(this.component);
        deps.logger.info({ component: this.component, failures: this.consecutiveFailures }, 'source restarted');
        return;
      } catch (startError) {
        deps.metrics.error('component_failed');
        error = startError;
      }
    }
  }

  /** Stops an instance, giving up after `stopTimeoutMs`: a broken source must not block its replacement. */
  private async stopWithin(source: Source): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.stopTimeoutMs);
    });
    try {
      const outcome = await Promise.race([source.stop().then(() => 'stopped' as const), timedOut]);
      if (outcome === 'timeout') this.deps.logger.warn({ component: this.component, timeout_ms: this.stopTimeoutMs }, 'failed source did not stop in time');
    } catch (error) {
      this.deps.logger.warn({ component: this.component, err: errorMessage(error) }, 'failed source did not stop cleanly');
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    this.stopSignal.abort();
    await this.restarting;
    if (this.instanceFailed) await this.stopWithin(this.source);
    else await this.source.stop();
  }
}
