import type { LogRecord } from '../record/log-record.js';
import type { Lifecycle } from './types.js';

/** A normalized record, serialized once and shared by every output. */
export interface OutgoingRecord {
  readonly record: LogRecord;
  readonly json: string;
  /** Partition key for Kafka outputs: records of one resource stay ordered. */
  readonly key: string;
}

/**
 * Collector outputs (normalized topics, sinks). `write` resolves only when the
 * target durably has every record (Kafka acks=all, fsync, a 2xx bulk item), and
 * rejects with a TributaryError whose `retriable` says whether trying again can help.
 */
export interface RecordSink extends Lifecycle {
  readonly id: string;
  write(records: readonly OutgoingRecord[]): Promise<void>;
}
