import type { LogRecord } from '../record/log-record.js';
import type { MetricRecord } from '../record/metric-record.js';
import type { Lifecycle } from './types.js';

/** Every standard record the collector produces; `schema` tells them apart. */
export type NormalizedRecord = LogRecord | MetricRecord;

/** Where a record came from in Kafka: the raw frame it was decoded from (one frame holds many records). */
export interface RecordOrigin {
  readonly topic: string;
  readonly partition: number;
  /** The frame's offset, a decimal string as kafkajs gives it. */
  readonly offset: string;
  /**
   * The event's index among its frame's lines (0-based, undecodable lines counted too). One frame may reach
   * an output over several writes (a large frame is decoded over several steps; a rejected batch is written
   * again in halves), so (offset, event) is the position a sink that dedupes by position must track.
   */
  readonly event: number;
}

/** A normalized record, serialized once and shared by every output. */
export interface OutgoingRecord {
  readonly record: NormalizedRecord;
  readonly json: string;
  /** Partition key for Kafka outputs: records of one resource (a file's host and labels, a scrape target) stay ordered. */
  readonly key: string;
  /**
   * The raw frame's position. Sinks that must not duplicate on replay without an idempotent target (HDFS files
   * named by offset range) use it to recognise records they already hold.
   */
  readonly origin: RecordOrigin;
}

/** One record a target refused for good (a mapping conflict), by its position in the written batch. */
export interface RejectedRecord {
  readonly index: number;
  readonly reason: string;
}

/**
 * What `write` reports when it resolved: every record not listed in `rejected`
 * is durably in the target. A sink that retries per item (Elasticsearch's
 * `_bulk`) lists only the items retrying can never fix; the pipeline sends
 * those to the dead-letter topic and the rest of the batch counts as written.
 */
export interface WriteResult {
  readonly rejected: readonly RejectedRecord[];
}

/**
 * Collector outputs (normalized topics, sinks). `write` resolves only when the
 * target durably has every record (Kafka acks=all, fsync, a 2xx bulk item) but
 * the ones it reports rejected, and rejects with a TributaryError whose
 * `retriable` says whether trying the whole batch again can help.
 * A batch may mix log and metric records; an output that keeps them apart
 * (separate topics, indices) branches on `record.schema`.
 */
export interface RecordSink extends Lifecycle {
  readonly id: string;
  /**
   * `signal` aborts at shutdown: an output that retries inside `write` (a
   * bulk sink retrying single items) stops then and rejects with a retriable
   * SHUTDOWN error, so the step stays uncommitted and draining stays bounded.
   */
  // eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- outputs without per-record results keep returning nothing.
  write(records: readonly OutgoingRecord[], signal?: AbortSignal): Promise<WriteResult | void>;
  /** Whether the output can deliver now (readiness); absent means always. A sink whose server refuses its credentials says no. */
  ready?(): boolean;
  /** While not ready, why, for /readyz (a denied ACL, naming what to grant); absent or undefined otherwise. */
  problem?(): string | undefined;
}
