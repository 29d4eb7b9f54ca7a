import type { BatchConsumer } from '../../shared/pipeline/types.js';
import type { Logger } from '../../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../../shared/telemetry/metrics.js';
import type { RawMetricEvent } from '../../shared/record/raw-event.js';

/** What every metric source (scrape, host metrics) is given by the agent. */
export interface MetricSourceDeps {
  agentId: string;
  host: string;
  consumer: BatchConsumer;
  limits: EmitLimits;
  metrics: ComponentMetrics;
  logger: Logger;
}

export interface EmitLimits {
  /** Events per batch; at most the framer's max_events so a batch fits one frame. */
  maxEvents: number;
  /** Serialized bytes per batch (UTF-16 units, a lower bound of UTF-8 bytes). */
  maxBytes: number;
}

/**
 * Hands one scrape's events to the framer in batches that each fit a frame,
 * serializing lazily so a 100k-series scrape never exists as one string.
 * Resolves when the last batch is accepted (the spool has it). `onAccepted`
 * is told each batch's events as it is accepted: when a later batch is
 * refused (the output stopping) and this rejects, the earlier ones are in the
 * spool all the same and must be counted as sent.
 */
export async function emitMetricEvents(
  consumer: BatchConsumer,
  key: string,
  events: Iterable<RawMetricEvent>,
  limits: EmitLimits,
  onAccepted: (events: number) => void = () => {},
): Promise<number> {
  let lines: string[] = [];
  let bytes = 0;
  let total = 0;
  const flush = async (): Promise<void> => {
    if (lines.length === 0) return;
    const count = lines.length;
    const ndjson = lines.join('');
    lines = [];
    bytes = 0;
    // Delivery outcomes are the spooled output's to act on and count: the spool retries, and a scrape cannot be re-read.
    await consumer.consume({ key, schema: 'raw.metric.v1', ndjson, eventCount: count, onDelivered: () => {} });
    onAccepted(count);
  };
  for (const event of events) {
    const line = `${JSON.stringify(event)}\n`;
    if (lines.length > 0 && (lines.length >= limits.maxEvents || bytes + line.length > limits.maxBytes)) await flush();
    lines.push(line);
    bytes += line.length;
    total++;
  }
  await flush();
  return total;
}
