import type { LogRecord } from '../record/log-record.js';
import type { MetricRecord } from '../record/metric-record.js';
import type { Lifecycle } from './types.js';

/** Every standard record the collector produces; `schema` tells them apart. */
export type NormalizedRecord = LogRecord | MetricRecord;

/** A normalized record, serialized once and shared by every output. */
export interface OutgoingRecord {
  readonly record: NormalizedRecord;
  readonly json: string;
  /** Partition key for Kafka outputs: records of one resource (a file's host and labels, a scrape target) stay ordered. */
  readonly key: string;
}

/**
 * Collector outputs (normalized topics, sinks). `write` resolves only when the
 * target durably has every record (Kafka acks=all, fsync, a 2xx bulk item), and
 * rejects with a TributaryError whose `retriable` says whether trying again can help.
 * A batch may mix log and metric records; an output that keeps them apart
 * (separate topics, indices) branches on `record.schema`.
 */
export interface RecordSink extends Lifecycle {
  readonly id: string;
  write(records: readonly OutgoingRecord[]): Promise<void>;
}
