import { TributaryError, errorMessage } from '../shared/errors.js';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { FrameSchema } from '../shared/frame/frame-codec.js';
import type { ConsumedMessage } from '../shared/kafka/consumer.js';
import type { NormalizedRecord, OutgoingRecord, RecordSink, RejectedRecord } from '../shared/pipeline/record-sink.js';
import { retry } from '../shared/pipeline/retry.js';
import type { Logger } from '../shared/telemetry/logger.js';
import type { ComponentMetrics } from '../shared/telemetry/metrics.js';
import type { DeadLetter, DeadLetterWriter } from './outputs/dead_letter/dead-letter-output.js';
import { asRawLogEvent, normalizeLogEvent, resourceKey } from './processors/normalize/normalize-log.js';
import { asRawMetricEvent, normalizeMetricEvent } from './processors/normalize/normalize-metric.js';
import type { InFlightRecord, RecordProcessor } from './processors/processor.js';
import type { RecordTaps } from '../shared/telemetry/record-tap.js';
import { StepReader, type DecodedStep, type StepEvent } from './step-reader.js';

export interface RecordPipelineOptions {
  maxFrameBytes: number;
  /** Added to every record's resource by normalize (`collector.resource`). */
  staticResource: Readonly<Record<string, string>>;
  /** Run on every normalized record in this order (collector/processors/registry.ts: parse, enrich, route). */
  processors: readonly RecordProcessor[];
  retry: { initialMs: number; maxMs: number };
  /** Outputs that see every record whatever the routes say (alerting's partial aggregation); the step waits for them too. */
  taps?: readonly RecordSink[];
  /** Where `tributary tap` samples records (see collectorTapPoints); nothing is copied unless a tap is open. */
  samples?: RecordTaps;
  /** Decoded events per step (input.max_step_events). */
  maxStepEvents?: number;
  /** Decoded bytes per step (input.max_step_bytes). */
  maxStepBytes?: number;
  /** How long one slice of decoding or processing may hold the event loop. */
  sliceMs?: number;
}

const DEFAULT_MAX_STEP_EVENTS = 10_000;
const DEFAULT_MAX_STEP_BYTES = 4 * 1024 * 1024;
const DEFAULT_SLICE_MS = 20;
const NO_OUTPUTS: readonly string[] = [];

export interface StepResult {
  records: number;
  deadLetters: number;
}

/** The collector's tap points: every record after the processors, each output's records, and dead letters. */
export function collectorTapPoints(outputIds: readonly string[]): string[] {
  return ['processed', ...outputIds.map((id) => `output.${id}`), 'dead_letter'];
}

function* jsonOf(records: readonly OutgoingRecord[]): Generator<string> {
  for (const { json } of records) yield json;
}

function* letterJson(letters: readonly DeadLetter[]): Generator<string> {
  for (const letter of letters) {
    yield JSON.stringify({
      reason: letter.reason,
      error_code: letter.errorCode,
      source: { topic: letter.sourceTopic, partition: letter.sourcePartition, offset: letter.sourceOffset },
      value: typeof letter.value === 'string' ? letter.value : letter.value.toString('utf8'),
    });
  }
}

function offerSamples(
  samples: RecordTaps,
  records: readonly OutgoingRecord[],
  routed: ReadonlyMap<string, OutgoingRecord[]>,
  letters: readonly DeadLetter[],
): void {
  if (samples.active('processed')) samples.offer('processed', jsonOf(records));
  for (const [id, own] of routed) if (samples.active(`output.${id}`)) samples.offer(`output.${id}`, jsonOf(own));
  if (letters.length > 0 && samples.active('dead_letter')) samples.offer('dead_letter', letterJson(letters));
}

/** One raw event normalized, with what identifies its source for partition-key caching. */
interface Normalized {
  record: NormalizedRecord;
  /** Events with the same identity share a resource before enrichment, so they share a partition key. */
  sourceIdentity: string;
}

/**
 * One processing step of the collector: frames → raw events → normalize →
 * processors (parse, enrich, route) → outputs, plus dead letters for what
 * could not be decoded. A frame's schema header decides how an event is
 * normalized: `raw.log.v1` events into log records, `raw.metric.v1` events
 * into metric records; the processors then see both (parse only acts on logs). Each output is given only the
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

  /** Cuts fetched messages into steps bounded by what they decode to; see {@link StepReader}. */
  steps(topic: string, partition: number, messages: readonly ConsumedMessage[]): StepReader {
    const limits = {
      maxEvents: this.options.maxStepEvents ?? DEFAULT_MAX_STEP_EVENTS,
      maxBytes: this.options.maxStepBytes ?? DEFAULT_MAX_STEP_BYTES,
      maxFrameBytes: this.options.maxFrameBytes,
      sliceMs: this.options.sliceMs ?? DEFAULT_SLICE_MS,
    };
    return new StepReader(topic, partition, messages, limits, this.metrics, this.logger);
  }

  /**
   * Processes every message, step after step; resolves when all are acknowledged. The collector itself
   * uses {@link steps} and {@link processStep} to mark offsets between steps.
   */
  async process(topic: string, partition: number, messages: readonly ConsumedMessage[], signal: AbortSignal): Promise<StepResult> {
    const reader = this.steps(topic, partition, messages);
    const total: StepResult = { records: 0, deadLetters: 0 };
    for (let step = await reader.read(); step !== undefined; step = await reader.read()) {
      const result = await this.processStep(topic, partition, step, signal);
      total.records += result.records;
      total.deadLetters += result.deadLetters;
    }
    return total;
  }

  /**
   * Normalizes one step's events and runs the processors on them (yielding to the event loop between slices) and
   * delivers them. A record whose processing fails in any way is dead-lettered alone, with its own line
   * and the reason; the rest of the step goes on, so no single record can stall a partition.
   */
  async processStep(topic: string, partition: number, step: DecodedStep, signal: AbortSignal): Promise<StepResult> {
    const records: OutgoingRecord[] = [];
    const letters: DeadLetter[] = [...step.letters];
    const routed = new Map<string, OutgoingRecord[]>();
    const sliceMs = this.options.sliceMs ?? DEFAULT_SLICE_MS;
    // One frame comes from one agent's source (a file, a scrape target), so its events share a resource: key it once.
    const keysBySource = new Map<string, string>();
    let deadline = performance.now() + sliceMs;
    for (let index = 0; index < step.events.length; index++) {
      if ((index & 63) === 0 && performance.now() >= deadline) {
        await yieldToEventLoop();
        deadline = performance.now() + sliceMs;
      }
      const stepEvent = step.events[index] as StepEvent;
      try {
        const { record, key, destinations } = this.toRecord(stepEvent, keysBySource);
        const outgoing: OutgoingRecord = {
          record,
          json: JSON.stringify(record),
          key,
          origin: { topic, partition, offset: stepEvent.message.offset, event: stepEvent.index },
        };
        records.push(outgoing);
        for (const id of destinations) {
          let list = routed.get(id);
          if (list === undefined) routed.set(id, (list = []));
          list.push(outgoing);
        }
      } catch (error) {
        this.metrics[stepEvent.schema].error('decode');
        letters.push({
          sourceTopic: topic,
          sourcePartition: partition,
          sourceOffset: stepEvent.message.offset,
          reason: errorMessage(error),
          errorCode: error instanceof TributaryError ? error.code : 'RECORD_INVALID',
          key: stepEvent.message.key,
          // The event's own line, never a re-serialization: a record that broke processing may break JSON.stringify too.
          value: stepEvent.line,
          eventCount: 1,
          dropReason: 'frame_invalid',
        });
      }
    }
    // Decode-time and processing-time letters go out in input order, as the events came (the sort is stable).
    letters.sort((first, second) => Number(first.sourceOffset) - Number(second.sourceOffset));
    if (this.options.samples !== undefined) offerSamples(this.options.samples, records, routed, letters);
    const deliveries = this.outputs.map((output) => {
      const own = routed.get(output.id) ?? [];
      return own.length === 0 ? Promise.resolve() : this.deliver(output, own, topic, partition, signal);
    });
    for (const tap of this.options.taps ?? []) {
      if (records.length > 0) deliveries.push(this.deliver(tap, records, topic, partition, signal));
    }
    deliveries.push(this.withRetry('dead-letter topic', () => this.deadLetters.write(letters), signal));
    await Promise.all(deliveries);
    let metricRecords = 0;
    for (const { record } of records) if (record.schema === 'tributary.metric.v1') metricRecords++;
    if (records.length > metricRecords) this.metrics['raw.log.v1'].eventsOut.inc(records.length - metricRecords);
    if (metricRecords > 0) this.metrics['raw.metric.v1'].eventsOut.inc(metricRecords);
    return { records: records.length, deadLetters: letters.length };
  }

  /** One event to its record, partition key and outputs; throws whatever normalization or a processor throws. */
  private toRecord(stepEvent: StepEvent, keysBySource: Map<string, string>): { record: NormalizedRecord; key: string; destinations: readonly string[] } {
    const { record, sourceIdentity } = stepEvent.schema === 'raw.metric.v1' ? this.normalizeMetric(stepEvent.event) : this.normalizeLog(stepEvent.event);
    let key = keysBySource.get(sourceIdentity);
    // A metric key is the target's resource before enrichment, which could move series labels into the resource and so
    // spread one target over partitions; a log key includes what enrichment adds, as it always has.
    if (key === undefined && record.schema === 'tributary.metric.v1') keysBySource.set(sourceIdentity, (key = resourceKey(record.resource)));
    const inFlight: InFlightRecord = { record, destinations: NO_OUTPUTS };
    for (const processor of this.options.processors) processor.process(inFlight);
    if (key === undefined) keysBySource.set(sourceIdentity, (key = resourceKey(record.resource)));
    return { record, key, destinations: inFlight.destinations };
  }

  private normalizeLog(event: unknown): Normalized {
    const raw = asRawLogEvent(event);
    const record = normalizeLogEvent(raw, this.options.staticResource);
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
   * Retriable failures are retried; a permanent rejection of the batch sends its records to the
   * dead-letter topic, and so do single records the output reports rejected. An untyped error (a bug
   * one record triggers in an output, e.g. a stack overflow) is isolated by halving the batch, so only
   * the records that fail alone are dead-lettered and the rest are delivered.
   */
  private async deliver(output: RecordSink, records: readonly OutgoingRecord[], topic: string, partition: number, signal: AbortSignal): Promise<void> {
    const letters: DeadLetter[] = [];
    await this.writeIsolating(output, records, topic, partition, signal, letters);
    if (letters.length === 0) return;
    this.logger.error(
      { output: output.id, records: letters.length, first_reason: letters[0]?.reason },
      'output rejected records; sent to the dead-letter topic',
    );
    await this.withRetry('dead-letter topic', () => this.deadLetters.write(letters), signal);
  }

  private async writeIsolating(
    output: RecordSink,
    records: readonly OutgoingRecord[],
    topic: string,
    partition: number,
    signal: AbortSignal,
    letters: DeadLetter[],
  ): Promise<void> {
    const letter = (record: OutgoingRecord, reason: string, errorCode: string): DeadLetter => ({
      sourceTopic: topic,
      sourcePartition: partition,
      sourceOffset: record.origin.offset,
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
      for (const { index, reason } of rejected) {
        const record = records[index];
        if (record !== undefined) letters.push(letter(record, reason, 'SINK_REJECTED'));
      }
    } catch (error) {
      // At shutdown the step is abandoned, not dead-lettered: it stays uncommitted and is replayed.
      if (signal.aborted) throw error;
      if (error instanceof TributaryError) {
        if (error.retriable) throw error;
        for (const record of records) letters.push(letter(record, errorMessage(error), error.code));
        return;
      }
      const only = records.length === 1 ? records[0] : undefined;
      if (only !== undefined) {
        letters.push(letter(only, errorMessage(error), 'OUTPUT_FAILED'));
        return;
      }
      this.logger.warn({ output: output.id, records: records.length, err: errorMessage(error) }, 'output failed unexpectedly; isolating the record');
      const middle = records.length >>> 1;
      await this.writeIsolating(output, records.slice(0, middle), topic, partition, signal, letters);
      await this.writeIsolating(output, records.slice(middle), topic, partition, signal, letters);
    }
  }

  private withRetry(target: string, write: () => Promise<void>, signal: AbortSignal): Promise<void> {
    return retry(write, {
      policy: this.options.retry,
      signal,
      classify: (error) => (error instanceof TributaryError && error.retriable ? 'retry' : 'fail'),
      onRetry: (attempt, delayMs, error) =>
        this.logger.warn({ target, attempt, retry_in_ms: delayMs, err: errorMessage(error) }, 'write failed; retrying (offsets stay uncommitted)'),
    });
  }
}
