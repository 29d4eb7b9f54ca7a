import { setMaxListeners } from 'node:events';
import { TributaryError, errorMessage } from '../../shared/errors.js';
import type { Endpoint, HttpRequest, HttpTransport, SentRequest } from '../../shared/http/http-transport.js';
import type { RejectedRecord } from '../../shared/pipeline/record-sink.js';
import { retry, type RetryDecision } from '../../shared/pipeline/retry.js';
import type { Logger } from '../../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../../shared/telemetry/metrics.js';

/**
 * What the sinks that hold a step until their server took it (Elasticsearch,
 * Solr, HDFS) do alike around their own protocol: one abort signal per write,
 * start-up checks retried until stop, failover logged, refusals counted. The
 * protocols themselves (bulk items, update verdicts, offset-named files) stay
 * in each sink.
 */

export interface WriteSignal {
  readonly signal: AbortSignal;
  /** Detaches from the caller's and the sink's signals; call when the write ends, or a long-lived sink leaks a listener per write. */
  readonly release: () => void;
}

/** A signal for one write, aborted by the caller's (shutdown) or by the sink's lifetime (stop()). */
export function writeSignal(caller: AbortSignal | undefined, lifetime: AbortSignal): WriteSignal {
  const controller = new AbortController();
  // Every request and every request waiting for a slot listens to it; a large write has many.
  setMaxListeners(0, controller.signal);
  const onAbort = (): void => controller.abort();
  const sources = caller ? [caller, lifetime] : [lifetime];
  for (const source of sources) {
    if (source.aborted) controller.abort();
    else source.addEventListener('abort', onAbort, { once: true });
  }
  return {
    signal: controller.signal,
    release: () => {
      for (const source of sources) source.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * Runs a sink's start-up check until it passes, fails for good, or stop()
 * aborts `signal`. A refusal marked `blocked` (credentials, privileges) is
 * logged as an error: it will not heal by waiting, unlike a server not up yet.
 */
export function retryStartup(
  check: () => Promise<void>,
  backoff: { readonly initial_backoff: number; readonly max_backoff: number },
  signal: AbortSignal,
  logger: Logger,
  message: string,
): Promise<void> {
  return retry(check, {
    policy: { initialMs: backoff.initial_backoff, maxMs: backoff.max_backoff },
    signal,
    classify: retriableUnlessShutdown,
    onRetry: (attempt, delayMs, error) => {
      const blocked = error instanceof TributaryError && error.context.blocked === true;
      logger[blocked ? 'error' : 'warn']({ attempt, retry_in_ms: delayMs, err: errorMessage(error) }, message);
    },
  });
}

/** A retriable TributaryError may heal; a SHUTDOWN one means the sink is stopping, and anything else is permanent. */
export function retriableUnlessShutdown(error: unknown): RetryDecision {
  return error instanceof TributaryError && error.retriable && error.code !== 'SHUTDOWN' ? 'retry' : 'fail';
}

/** One request with failover to the next endpoint (see HttpTransport.sendWithFailover), each failover logged. */
export function sendLogged(transport: HttpTransport, logger: Logger, request: HttpRequest, signal: AbortSignal): Promise<SentRequest & { endpoint: Endpoint }> {
  return transport.sendWithFailover(request, signal, (endpoint, reason) =>
    logger.warn({ endpoint: endpoint.display, reason }, 'request failed; trying the next endpoint'),
  );
}

/** Counts and logs the records a write hands back as refused (they go to the dead-letter topic). */
export function reportRejected(rejected: readonly RejectedRecord[], metrics: ComponentMetrics, logger: Logger, message: string): void {
  if (rejected.length === 0) return;
  metrics.error('sink_rejected', rejected.length);
  metrics.drop('sink_rejected', rejected.length);
  logger.error({ records: rejected.length, first_reason: rejected[0]?.reason }, message);
}
