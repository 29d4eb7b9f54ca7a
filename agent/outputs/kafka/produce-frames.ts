import { TributaryError, errorMessage } from '../../../shared/errors.js';
import { backoffDelay, sleep } from '../../../shared/pipeline/backoff.js';
import type { MessageProducer } from '../../../shared/kafka/producer.js';
import type { Logger } from '../../../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../../../shared/telemetry/metrics.js';
import { inSpan } from '../../../shared/telemetry/tracing.js';

export interface FrameMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  eventCount: number;
}

export interface ProduceFramesOptions {
  producer: MessageProducer;
  topic: string;
  retry: { initial_backoff: number; max_backoff: number };
  metrics: ComponentMetrics;
  logger: Logger;
  /** Aborting stops retrying; the frames are then neither delivered nor dropped. */
  signal?: AbortSignal;
}

export type ProduceOutcome = 'delivered' | 'rejected' | 'aborted';

/**
 * Produces one request of frames with acks=all, retrying what can succeed
 * (broker away, leader moving) with jittered backoff for as long as it takes,
 * and counting a permanent rejection (a frame too large for the topic) as a
 * drop: retrying it could never succeed and would stall every key behind it.
 */
export async function produceFrames(frames: readonly FrameMessage[], options: ProduceFramesOptions): Promise<ProduceOutcome> {
  const { producer, topic, metrics, logger, signal } = options;
  const events = frames.reduce((sum, frame) => sum + frame.eventCount, 0);
  const bytes = frames.reduce((sum, frame) => sum + frame.value.length, 0);
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) return 'aborted';
    const timer = metrics.requestDuration.startTimer();
    try {
      await inSpan('kafka.produce', { 'messaging.destination.name': topic, 'messaging.batch.message_count': frames.length }, () =>
        // Frames are zstd already; compressing the batch again would only burn CPU.
        producer.send(
          topic,
          frames.map((frame) => ({ key: frame.key, value: frame.value, headers: frame.headers })),
          'none',
        ),
      );
      timer();
      metrics.eventsOut.inc(events);
      metrics.bytesOut.inc(bytes);
      metrics.batchesOut.inc();
      if (attempt > 0) logger.info({ topic, attempts: attempt + 1 }, 'Kafka accepted frames after retries');
      return 'delivered';
    } catch (error) {
      timer();
      if (!(error instanceof TributaryError && error.retriable)) {
        metrics.error('kafka_rejected');
        metrics.drop('kafka_rejected', events);
        logger.error({ topic, frames: frames.length, events, err: errorMessage(error) }, 'Kafka rejected frames permanently; dropped');
        return 'rejected';
      }
      metrics.error('kafka_unavailable');
      const delay = backoffDelay(attempt, { initialMs: options.retry.initial_backoff, maxMs: options.retry.max_backoff });
      logger.warn({ topic, attempt: attempt + 1, retry_in_ms: delay, err: errorMessage(error) }, 'produce failed; retrying');
      await sleep(delay, signal);
    }
  }
}
