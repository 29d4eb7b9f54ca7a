import { TributaryError, errorMessage } from '../shared/errors.js';
import { FRAME_HEADER, decodeFrame, type DecodedFrame, type FrameSchema } from '../shared/frame/frame-codec.js';
import type { ConsumedMessage } from '../shared/kafka/consumer.js';
import type { NormalizedRecord, OutgoingRecord, RecordSink, RejectedRecord } from '../shared/pipeline/record-sink.js';
import { retry } from '../shared/pipeline/retry.js';
import type { Logger } from '../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../shared/telemetry/metrics.js';
import type { DeadLetter, DeadLetterWriter } from './outputs/dead_letter/dead-letter-output.js';
import type { Enricher } from './processors/enrich/enrich.js';
import { asRawLogEvent, normalizeLogEvent, resourceKey } from './processors/normalize/normalize-log.js';
import { asRawMetricEvent, normalizeMetricEvent } from './processors/normalize/normalize-metric.js';
import { applyParser, TIMESTAMP_FALLBACK_ATTRIBUTE, type ParserSelector } from './processors/parse/parse-rules.js';
import type { Router } from './processors/route/route.js';

export interface RecordPipelineOptions {
  maxFrameBytes: number;
  /** Log records only: metrics have no text to parse. */
  parsers: ParserSelector;
  staticResource: Readonly<Record<string, string>>;
  /** Applied to every record (logs after parsing, and metrics); reports redactions. */
  enrich: Enricher;
  /** Chooses each record's outputs by id. */
  router: Router;
  /** Where the enrich step's redactions are counted. */
  enrichMetrics: ComponentMetrics;
  retry: { initialMs: number; maxMs: number };
  /** Outputs that see every record whatever the routes say (alerting's partial aggregation); the step waits for them too. */
  taps?: readonly RecordSink[];
}

export interface StepResult {
  records: number;
  deadLetters: number;
}

/** One raw event normalized, with what identifies its source for partition-key caching. */
interface Normalized {
  record: NormalizedRecord;
  /** Events with the same identity share a resource before enrichment, so they share a partition key. */
  sourceIdentity: string;
}

/**
 * One processing step of the collector: frames → raw events → standard
 * records → enrich → routed outputs, plus dead letters for what could not be
 * decoded. A frame's schema header decides its path: `raw.log.v1` events are
 * normalized and parsed into log records, `raw.metric.v1` events into metric
 * records; both are enriched and routed alike. Each output is given only the
 * records routed to it (a record routed elsewhere is not a drop). Resolves
 * only when every output and the dead-letter topic acknowledged the whole
 * step; only then may the input mark the frames' offsets processed.
 */
export class RecordPipeline {
  /**
   * @param metrics the normalize processor's metrics per frame schema, so
   *   events in, records out and decode errors are counted for logs and metrics apart.
   */
  constructor(
    private readonly outputs: readonly RecordSink[],
    private readonly deadLetters: DeadLetterWriter,
    private readonly options: RecordPipelineOptions,
    private readonly metrics: Readonly<Record<FrameSchema, ComponentMetrics>>,
    private readonly logger: Logger,
  ) {}

  async process(topic: string, partition: number, messages: readonly ConsumedMessage[], signal: AbortSignal): Promise<StepResult> {
    const records: OutgoingRecord[] = [];
    const letters: DeadLetter[] = [];
    for (const message of messages) this.decodeMessage(topic, partition, message, records, letters);
    const routed = this.route(records);
    const deliveries = this.outputs.map((output) => {
      const own = routed.get(output.id) ?? [];
      return own.length === 0 ? Promise.resolve() : this.deliver(output, own, topic, partition, messages, signal);
    });
    for (const tap of this.options.taps ?? []) {
      if (records.length > 0)
        deliveries.push(
          this.withRetry(
            `output ${tap.id}`,
            async () => {
              await tap.write(records, signal);
            },
            signal,
          ),
        );
    }
    deliveries.push(this.withRetry('dead-letter topic', () => this.deadLetters.write(letters), signal));
    await Promise.all(deliveries);
    let metricRecords = 0;
    for (const { record } of records) if (record.schema === 'tributary.metric.v1') metricRecords++;
    if (records.length > metricRecords) this.metrics['raw.log.v1'].eventsOut.inc(records.length - metricRecords);
    if (metricRecords > 0) this.metrics['raw.metric.v1'].eventsOut.inc(metricRecords);
    return { records: records.length, deadLetters: letters.length };
  }

  /** Groups the step's records by output id. */
  private route(records: readonly OutgoingRecord[]): Map<string, readonly OutgoingRecord[]> {
    const router = this.options.router;
    const byOutput = new Map<string, OutgoingRecord[]>();
    if (router.trivial) {
      // No rules: every record has the same destinations, so the step's array is shared.
      for (const id of router.defaults) byOutput.set(id, records as OutgoingRecord[]);
      return byOutput;
    }
    for (const record of records) {
      for (const id of router.route(record.record)) {
        let list = byOutput.get(id);
        if (list === undefined) byOutput.set(id, (list = []));
        list.push(record);
      }
    }
    return byOutput;
  }

  private decodeMessage(topic: string, partition: number, message: ConsumedMessage, records: OutgoingRecord[], letters: DeadLetter[]): void {
    const origin = { sourceTopic: topic, sourcePartition: partition, sourceOffset: message.offset };
    let frame: DecodedFrame;
    try {
      frame = decodeFrame(message.value, message.headers, this.options.maxFrameBytes);
    } catch (error) {
      const code = error instanceof TributaryError ? error.code : 'FRAME_INVALID';
      // The header may name a schema even when the frame is unreadable; anything else is counted with logs, the first schema.
      const declared = message.headers[FRAME_HEADER.schema]?.toString() === 'raw.metric.v1' ? 'raw.metric.v1' : 'raw.log.v1';
      this.metrics[declared].error('decode');
      this.logger.warn({ topic, partition, offset: message.offset, err: errorMessage(error) }, 'undecodable frame sent to the dead-letter topic');
      letters.push({
        ...origin,
        reason: errorMessage(error),
        errorCode: code,
        key: message.key,
        value: message.value ?? Buffer.alloc(0),
        originalHeaders: message.headers,
        eventCount: Number(message.headers['tributary.event-count']?.toString() ?? 1) || 1,
        dropReason: code === 'FRAME_TOO_LARGE' ? 'frame_too_large' : 'frame_invalid',
      });
      return;
    }
    const metrics = this.metrics[frame.schema];
    metrics.eventsIn.inc(frame.events.length);
    const normalize = frame.schema === 'raw.metric.v1' ? (event: unknown) => this.normalizeMetric(event) : (event: unknown) => this.normalizeLog(event);
    // One frame comes from one agent's source (a file, a scrape target), so its events share a resource: key it once.
    const keysBySource = new Map<string, string>();
    let redactions = 0;
    for (const event of frame.events) {
      try {
        const { record, sourceIdentity } = normalize(event);
        let key = keysBySource.get(sourceIdentity);
        // A metric key is the target's resource before enrichment, which could move series labels into the resource and so
        // spread one target over partitions; a log key includes what enrichment adds, as it always has.
        if (key === undefined && record.schema === 'tributary.metric.v1') keysBySource.set(sourceIdentity, (key = resourceKey(record.resource)));
        redactions += this.options.enrich(record).redactions;
        if (key === undefined) keysBySource.set(sourceIdentity, (key = resourceKey(record.resource)));
        records.push({ record, json: JSON.stringify(record), key, origin: { topic, partition, offset: message.offset } });
      } catch (error) {
        metrics.error('decode');
        letters.push({
          ...origin,
          reason: errorMessage(error),
          errorCode: error instanceof TributaryError ? error.code : 'FRAME_INVALID',
          key: message.key,
          value: JSON.stringify(event),
          eventCount: 1,
          dropReason: 'frame_invalid',
        });
      }
    }
    if (redactions > 0) this.options.enrichMetrics.redactions.inc(redactions);
  }

  private normalizeLog(event: unknown): Normalized {
    const raw = asRawLogEvent(event);
    const record = normalizeLogEvent(raw, this.options.staticResource);
    const parser = this.options.parsers.select(record);
    if (parser && !applyParser(record, parser)) this.metrics['raw.log.v1'].error('parse');
    if (TIMESTAMP_FALLBACK_ATTRIBUTE in record.attributes) this.metrics['raw.log.v1'].drop('timestamp_fallback');
    return { record, sourceIdentity: `${raw.agent_id}\u0000${raw.host}\u0000${raw.source.name}` };
  }

  /**
   * Metric records are keyed by their resource (job, instance, host, agent), not
   * by series: one target's series stay ordered in one partition, and a
   * consumer sees a whole scrape of a target together.
   */
  private normalizeMetric(event: unknown): Normalized {
    const raw = asRawMetricEvent(event);
    const record = normalizeMetricEvent(raw, this.options.staticResource);
    const { job, instance } = record.resource;
    return { record, sourceIdentity: `${raw.agent_id}\u0000${raw.host}\u0000${job ?? ''}\u0000${instance ?? ''}` };
  }

  /**
   * Retriable failures are retried; a permanent rejection of the batch sends the step's records to the
   * dead-letter topic, and so do single records the output reports rejected.
   */
  private async deliver(
    output: RecordSink,
    records: readonly OutgoingRecord[],
    topic: string,
    partition: number,
    messages: readonly ConsumedMessage[],
    signal: AbortSignal,
  ): Promise<void> {
    const firstOffset = messages[0]?.offset ?? '0';
    const letter = (record: OutgoingRecord, reason: string, errorCode: string): DeadLetter => ({
      sourceTopic: topic,
      sourcePartition: partition,
      sourceOffset: firstOffset,
      reason: `output ${output.id}: ${reason}`,
      errorCode,
      key: record.key,
      value: record.json,
      eventCount: 1,
      dropReason: 'sink_rejected',
    });
    try {
      let rejected: readonly RejectedRecord[] = [];
      await this.withRetry(
        `output ${output.id}`,
        async () => {
          rejected = (await output.write(records, signal))?.rejected ?? [];
        },
        signal,
      );
      if (rejected.length === 0) return;
      this.logger.error(
        { output: output.id, records: rejected.length, first_reason: rejected[0]?.reason },
        'output rejected records; sent to the dead-letter topic',
      );
      const letters = rejected.flatMap(({ index, reason }) => {
        const record = records[index];
        return record === undefined ? [] : [letter(record, reason, 'SINK_REJECTED')];
      });
      await this.withRetry('dead-letter topic', () => this.deadLetters.write(letters), signal);
    } catch (error) {
      if (!(error instanceof TributaryError) || error.retriable) throw error;
      this.logger.error(
        { output: output.id, records: records.length, err: errorMessage(error) },
        'output rejected records permanently; sent to the dead-letter topic',
      );
      const letters = records.map((record) => letter(record, errorMessage(error), error.code));
      await this.withRetry('dead-letter topic', () => this.deadLetters.write(letters), signal);
    }
  }

  private withRetry(target: string, write: () => Promise<void>, signal: AbortSignal): Promise<void> {
    return retry(write, {
      initialMs: this.options.retry.initialMs,
      maxMs: this.options.retry.maxMs,
      signal,
      isRetriable: (error) => error instanceof TributaryError && error.retriable,
      onRetry: (error, attempt, delayMs) =>
        this.logger.warn({ target, attempt, retry_in_ms: delayMs, err: errorMessage(error) }, 'write failed; retrying (offsets stay uncommitted)'),
    });
  }
}
