import { TributaryError, errorMessage } from '../shared/errors.js';
import { decodeFrame } from '../shared/frame/frame-codec.js';
import type { ConsumedMessage } from '../shared/kafka/consumer.js';
import type { OutgoingRecord, RecordSink } from '../shared/pipeline/record-sink.js';
import { retry } from '../shared/pipeline/retry.js';
import type { Logger } from '../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../shared/telemetry/metrics.js';
import type { DeadLetter, DeadLetterOutput } from './outputs/dead_letter/dead-letter-output.js';
import type { Enricher } from './processors/enrich/enrich.js';
import { asRawLogEvent, normalizeLogEvent, resourceKey } from './processors/normalize/normalize-log.js';
import { applyParser, type ParserSelector } from './processors/parse/parse-rules.js';
import type { Router } from './processors/route/route.js';

export interface LogPipelineOptions {
  maxFrameBytes: number;
  parsers: ParserSelector;
  staticResource: Readonly<Record<string, string>>;
  /** Applied to every record after parsing; reports redactions. */
  enrich: Enricher;
  /** Chooses each record's outputs by id. */
  router: Router;
  /** Where the enrich step's redactions are counted. */
  enrichMetrics: ComponentMetrics;
  retry: { initialMs: number; maxMs: number };
}

export interface StepResult {
  records: number;
  deadLetters: number;
}

/**
 * One processing step of the collector: frames → raw events → standard
 * records → enrich → routed outputs, plus dead letters for what could not be
 * decoded. Each output is given only the records routed to it (a record routed
 * elsewhere is not a drop). Resolves only when every output and the
 * dead-letter topic acknowledged the whole step; only then may the input mark
 * the frames' offsets processed.
 */
export class LogPipeline {
  constructor(
    private readonly outputs: readonly RecordSink[],
    private readonly deadLetters: DeadLetterOutput,
    private readonly options: LogPipelineOptions,
    private readonly metrics: ComponentMetrics,
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
    deliveries.push(this.withRetry('dead-letter topic', () => this.deadLetters.write(letters), signal));
    await Promise.all(deliveries);
    this.metrics.eventsOut.inc(records.length);
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
    let events: unknown[];
    try {
      events = decodeFrame(message.value, message.headers, this.options.maxFrameBytes).events;
    } catch (error) {
      const code = error instanceof TributaryError ? error.code : 'FRAME_INVALID';
      this.metrics.error('decode');
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
    this.metrics.eventsIn.inc(events.length);
    // One frame comes from one agent's source, so its events share a resource: key it once.
    const keysBySource = new Map<string, string>();
    let redactions = 0;
    for (const event of events) {
      try {
        const raw = asRawLogEvent(event);
        const record = normalizeLogEvent(raw, this.options.staticResource);
        const parser = this.options.parsers.select(record);
        if (parser && !applyParser(record, parser)) this.metrics.error('parse');
        redactions += this.options.enrich(record).redactions;
        const sourceIdentity = `${raw.agent_id}\u0000${raw.host}\u0000${raw.source.name}`;
        let key = keysBySource.get(sourceIdentity);
        if (key === undefined) {
          key = resourceKey(record.resource);
          keysBySource.set(sourceIdentity, key);
        }
        records.push({ record, json: JSON.stringify(record), key });
      } catch (error) {
        this.metrics.error('decode');
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

  /** Retriable failures are retried; a permanent rejection sends the step's records to the dead-letter topic. */
  private async deliver(
    output: RecordSink,
    records: readonly OutgoingRecord[],
    topic: string,
    partition: number,
    messages: readonly ConsumedMessage[],
    signal: AbortSignal,
  ): Promise<void> {
    try {
      await this.withRetry(`output ${output.id}`, () => output.write(records), signal);
    } catch (error) {
      if (!(error instanceof TributaryError) || error.retriable) throw error;
      this.logger.error(
        { output: output.id, records: records.length, err: errorMessage(error) },
        'output rejected records permanently; sent to the dead-letter topic',
      );
      const firstOffset = messages[0]?.offset ?? '0';
      const letters = records.map((record): DeadLetter => ({
        sourceTopic: topic,
        sourcePartition: partition,
        sourceOffset: firstOffset,
        reason: `output ${output.id}: ${errorMessage(error)}`,
        errorCode: error.code,
        key: record.key,
        value: record.json,
        eventCount: 1,
        dropReason: 'sink_rejected',
      }));
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
